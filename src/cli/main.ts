#!/usr/bin/env node
// The swr-harbor-sync command line: the sync service (serve) and direct copies between any two registries.
import { Command, Option } from 'commander';
import { RegistryError } from '../oci/errors.js';
import { serviceVersion } from '../oci/user-agent.js';
import { tuneV8ForShortRun } from './short-run-v8.js';
import type { CopyFlags } from './copy-commands.js';
import type { JobsFlags } from './jobs-command.js';
import type { SyncFlags } from './sync-command.js';
import { unknownCommandMessage } from './unknown-command.js';
import { UsageError } from './usage-error.js';

// Each command loads its own modules when it runs: a copy never pays for Express, SQLite and winston, in
// start-up time or in memory.

const repeated = (value: string, previous: string[] = []) => [...previous, value];

function withCopyFlags(command: Command): Command {
  return command
    .addOption(new Option('--all', 'copy every platform of a multi-arch image (the default)'))
    .addOption(new Option('--platform <os/arch>', 'copy only this platform; repeat for several').argParser(repeated))
    .option('--overwrite', 'replace a destination tag that points at a different image', false)
    .option('--referrers', 'also copy signatures, SBOMs and other artifacts referring to the image', false)
    .option('--insecure-src', 'talk plain HTTP to the source registry', false)
    .option('--insecure-dst', 'talk plain HTTP to the destination registry', false)
    .option(
      '--src-creds <user:password>',
      'source credentials (or the SRC_CREDS environment variable, which keeps them out of ps)',
    )
    .option('--dst-creds <user:password>', 'destination credentials (or DST_CREDS)')
    .option('--images <n>', 'images copied at the same time (default 8; 16 for copy-prefix)')
    .option('--transfers <n>', 'blob transfers at the same time per registry (default 8; 16 for copy-prefix)')
    .option('--rate <n>', 'requests per second per registry, 0 for no limit')
    .option('--max-bandwidth <rate>', 'blob bytes per second for the whole copy, e.g. 20MB/s or 100Mbit/s (0: no cap)')
    .option(
      '--format <auto|preserve|docker>',
      'manifest format: convert OCI to Docker when the destination refuses OCI (auto), never, or always',
    )
    .option('--json', 'print the per-image results as JSON instead of a summary', false);
}

const program = new Command()
  .name('swr-harbor-sync')
  .description(
    'Copy container images between registries without a Docker daemon; keep Huawei Cloud SWR in step with Harbor.',
  )
  .version(serviceVersion(), '-V, --version', 'print the version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nExit codes: 0 done; 1 something failed (an image, a check, Harbor, the destination or the service);\n2 the command was called wrongly or the configuration is invalid;\n3 (register-webhook only) this Harbor or registry has no webhook policies: the endpoint to add by hand was printed.',
  )
  // Commander's own usage errors (an unknown option, a missing argument) exit 2 like ours, not 1.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

withCopyFlags(
  program
    .command('copy')
    .description('copy one image: SRC and DST are REGISTRY/REPOSITORY[:TAG|@DIGEST]')
    .argument('<src>', 'source image reference')
    .argument('<dst>', 'destination image reference (tag defaults to the source tag)'),
).action(async (src: string, dst: string, flags: CopyFlags) => {
  tuneV8ForShortRun();
  const { copyCommand } = await import('./copy-commands.js');
  process.exitCode = await copyCommand(src, dst, flags);
});

withCopyFlags(
  program
    .command('copy-prefix')
    .description(
      'copy every repository (all tags) under REGISTRY/PREFIX to the same names under the destination prefix',
    )
    .argument('<src>', 'REGISTRY[/PREFIX] to copy from (listed through the catalog)')
    .argument('<dst>', 'REGISTRY[/PREFIX] to copy to'),
).action(async (src: string, dst: string, flags: CopyFlags) => {
  tuneV8ForShortRun();
  const { copyPrefixCommand } = await import('./copy-commands.js');
  process.exitCode = await copyPrefixCommand(src, dst, flags);
});

program
  .command('sync')
  .description('sync a Harbor project into its SWR namespace now, without the service (configuration from app.conf)')
  .requiredOption('--project <name>', 'the Harbor project')
  .option('--namespace <name>', "the SWR namespace (default: the project's entry in NamespaceMap)")
  .addOption(
    new Option('--repository <name>', 'only this repository, without the project; repeat for several').argParser(
      repeated,
    ),
  )
  .addOption(new Option('--tag <tag>', 'only this tag; repeat for several').argParser(repeated))
  .option('--overwrite', 'replace destination tags that point at a different image (default: ImageOverwrite)')
  .option('--dry-run', 'write nothing: list what would be copied, skipped, converted or overwritten, and why', false)
  .option(
    '--max-bandwidth <rate>',
    'blob bytes per second, e.g. 20MB/s or 100Mbit/s (default: MaxBandwidth; 0: no cap)',
  )
  .option('--json', 'print the per-image results as JSON', false)
  .action(async (flags: SyncFlags) => {
    tuneV8ForShortRun();
    process.exitCode = await (await import('./sync-command.js')).syncCommand(flags);
  });

program
  .command('serve', { isDefault: true })
  .description(
    'run the sync service (the default command; configuration from app.conf and the environment, see config/app.conf.example)',
  )
  .action(async () => (await import('./serve-command.js')).serveCommand());

program
  .command('jobs')
  .description("list a running service's jobs, or show one, through its API")
  .argument('[id]', "one job's id: show it with its per-image results")
  .option('--url <url>', 'the service (default: SWR_HARBOR_SYNC_URL, else http://127.0.0.1:<Port from app.conf>)')
  .option('--token <token>', "the service's ApiToken (default: SWR_HARBOR_SYNC_TOKEN, else ApiToken from app.conf)")
  .option('--state <state>', 'only jobs in this state: queued, running, succeeded, failed, skipped')
  .option('--project <name>', 'only jobs of this Harbor project')
  .option('--limit <n>', 'at most this many jobs, newest first (1-1000, default 100)')
  .option('--json', "print the API's JSON", false)
  .action(async (id: string | undefined, flags: JobsFlags) => {
    process.exitCode = await (await import('./jobs-command.js')).jobsCommand(id, flags);
  });

program
  .command('check-config')
  .description(
    'check the configuration and everything the service depends on (Harbor, SWR credentials, namespaces, directories)',
  )
  .action(async () => {
    process.exitCode = await (await import('./check-config-command.js')).checkConfigCommand();
  });

program
  .command('register-webhook')
  .description(
    "create or update, through Harbor's API, the project webhook policy that sends pushes (PUSH_ARTIFACT; pushImage on Harbor 1.9/1.10) to this service; never adds a second one",
  )
  .addOption(
    new Option('--project <name>', 'the Harbor project; repeat for several').argParser(
      (v: string, prev: string[] = []) => [...prev, v],
    ),
  )
  .option('--all-mapped', 'every project in NamespaceMap', false)
  .option(
    '--url <url>',
    `the service's notification URL as Harbor reaches it, e.g. http://HOST:5000/service/notifications (a bare http://HOST:PORT gets that path)`,
  )
  .option(
    '--auth-header <value>',
    'the Authorization value Harbor sends (default: WebhookAuthHeader from app.conf, so both agree)',
  )
  .option('--skip-cert-verify', "let Harbor skip verifying the service's TLS certificate (https URLs)", false)
  .option('--dry-run', 'change nothing: say what would be created or updated', false)
  .addHelpText(
    'after',
    '\nExit codes: 0 every project done; 1 a Harbor call failed (the line names the project and why); 2 wrong usage or configuration;\n3 this Harbor (before 1.9) or registry has no webhook policies: the registry endpoint to add by hand is printed.',
  )
  .action(async (flags: import('./register-webhook-command.js').RegisterWebhookFlags) => {
    process.exitCode = await (await import('./register-webhook-command.js')).registerWebhookCommand(flags);
  });

// A word in the command's place that names no command would reach the default command (serve) as an argument.
const word = process.argv[2];
const unknown =
  word === undefined || word.startsWith('-') || word === 'help'
    ? undefined
    : unknownCommandMessage(
        word,
        program.commands.map((c) => c.name()),
      );
if (unknown) {
  process.stderr.write(`error: ${unknown}\n`);
  process.exitCode = 2;
} else
  program.parseAsync(process.argv).catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof RegistryError || error instanceof Error) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = error instanceof RegistryError ? 1 : 2;
    } else {
      process.stderr.write(`error: ${String(error)}\n`);
      process.exitCode = 1;
    }
  });
