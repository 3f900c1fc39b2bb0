// Owns the one-line closing summary of a jest run, "N passed, N failed", printed last.
// A suite that failed with no failing test of its own (it could not compile or load, or a hook
// threw) counts as one failure, and a skipped or todo test as a failure, because the project
// treats anything that did not pass as failing.
'use strict';

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const brokenSuites = results.testResults.filter(
      (suite) => suite.numFailingTests === 0 && (suite.testExecError != null || Boolean(suite.failureMessage)),
    ).length;
    const failed = results.numFailedTests + results.numPendingTests + results.numTodoTests + brokenSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    // Jest adds its own summary reporter after the configured ones and may print more
    // while shutting down, so the line waits for process exit to really be the last one.
    if (this.line === undefined) process.once('exit', () => process.stdout.write(`\n${this.line}\n`));
    this.line = line;
  }
}

module.exports = SummaryReporter;
