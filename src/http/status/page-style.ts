// Owns the status page's style sheet: the look of the cards, the chart and the jobs table, and how they fit a
// phone (the table turns into one card per job below 760 px, so that no page ever scrolls sideways).

export const STYLE = `  :root { color-scheme: light; --fg: #1d2430; --muted: #5d6878; --line: #dde2ea; --bg: #f5f7fa; --card: #fff;
    --queued: #6b7280; --running: #2563eb; --succeeded: #15803d; --failed: #b91c1c; --skipped: #b45309; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; padding: 14px 24px; background: #17324d; color: #fff; }
  header h1 { margin: 0; font-size: 18px; font-weight: 600; }
  header .meta { color: #c9d6e3; font-size: 13px; }
  main { padding: 16px 24px 32px; max-width: 1400px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin-bottom: 16px; }
  h2 { margin: 0 0 10px; font-size: 15px; font-weight: 600; }
  #problem { display: none; background: #fdecec; color: var(--failed); border: 1px solid #f3b4b4; border-radius: 6px; padding: 10px 14px; margin-bottom: 16px; }
  #problem.shown { display: block; }
  .counts { display: flex; flex-wrap: wrap; gap: 12px; }
  .count { min-width: 120px; padding: 8px 12px; border: 1px solid var(--line); border-left: 4px solid var(--queued); border-radius: 4px; }
  .count .n { display: block; font-size: 22px; font-weight: 600; }
  .count .label { color: var(--muted); }
  .count.running { border-left-color: var(--running); } .count.succeeded { border-left-color: var(--succeeded); }
  .count.failed { border-left-color: var(--failed); } .count.skipped { border-left-color: var(--skipped); }
  #throughput-total { margin: 0 0 8px; }
  /* The whole width of the card; the script draws to the width it is given (no scaled, squeezed text). */
  #chart { width: 100%; height: 180px; display: block; }
  #chart .bar { fill: #3b82c4; } #chart .bar.empty { fill: #e5e9ef; }
  #chart text { font-size: 11px; fill: var(--muted); } #chart .value { fill: var(--fg); }
  #chart .axis { stroke: var(--line); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
  tbody tr:nth-child(even) { background: #fafbfc; }
  td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
  td.num { text-align: right; white-space: nowrap; }
  td.error { color: var(--failed); overflow-wrap: anywhere; min-width: 180px; max-width: 520px; }
  td.error summary { cursor: pointer; }
  td.error details[open] .preview, td.error details:not([open]) .collapse { display: none; }
  td.error .collapse { color: var(--muted); font-size: 12px; }
  td.error .error-full { white-space: pre-wrap; margin-top: 2px; }
  td.source { overflow-wrap: break-word; max-width: 320px; }
  .small { color: var(--muted); font-size: 12px; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; background: var(--queued); }
  .state.running { background: var(--running); } .state.succeeded { background: var(--succeeded); }
  .state.failed { background: var(--failed); } .state.skipped { background: var(--skipped); }
  progress { width: 110px; height: 10px; vertical-align: middle; }
  #empty { color: var(--muted); }
  @media (max-width: 760px) {
    header { padding: 12px 14px; }
    main { padding: 12px 10px 24px; }
    section { padding: 12px; }
    #jobs-table thead { display: none; }
    #jobs-table, #jobs-table tbody, #jobs-table tr, #jobs-table td { display: block; width: 100%; max-width: none; }
    #jobs-table tr { border: 1px solid var(--line); border-radius: 4px; margin-bottom: 10px; padding: 4px 0; }
    #jobs-table td { border: 0; padding: 3px 10px; text-align: left; white-space: normal; }
    #jobs-table td::before { content: attr(data-label); display: inline-block; min-width: 96px; color: var(--muted); font-size: 12px; text-transform: uppercase; }
    #jobs-table td.error::before { display: block; }
    #jobs-table td.error:empty { display: none; }
    #jobs-table td > .small { padding-left: 96px; }
  }
`;
