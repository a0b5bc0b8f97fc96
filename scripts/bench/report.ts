// Turning benchmark results into files: the Markdown table (for the README's Performance section), the JSON of
// everything measured, and the latency-vs-load chart as a hand-written SVG (plus a PNG when ImageMagick's
// `convert` or librsvg's `rsvg-convert` is on the PATH; the benchmark works without either).
import { spawnSync } from "node:child_process"
import type { Measurement } from "./harness.ts"
import { type ClusterResult, markdownSection as clusterSection } from "./scaleout.ts"

export interface Row {
  /** Short id: `a`, `b`, `c@1000`, `d`, `e:ours`, `e:grammy`. */
  readonly id: string
  readonly title: string
  /** Settings that differ from the defaults, as given to the process. */
  readonly settings: Readonly<Record<string, string>>
  readonly users: number
  /** Minimum time between one user's updates; 0 = closed loop (the next update right after the reply). */
  readonly paceMs: number
  readonly measurement: Measurement
  /** Updates still without a reply after the load stopped and the bot had 15 s to finish. */
  readonly unansweredAtEnd: number
  readonly logWarnings: number
  readonly logErrors: number
}

export interface RampResult {
  readonly steps: ReadonlyArray<Row & { readonly passed: boolean; readonly reason: string }>
  readonly saturation: { readonly users: number; readonly updatesPerSecond: number } | undefined
}

export interface SoakResult {
  readonly row: Row
  readonly rssStartBytes: number | undefined
  readonly rssEndBytes: number | undefined
  readonly driftPercent: number | undefined
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly os: string
  readonly node: string
  readonly database: string
  readonly loadAverageStart: ReadonlyArray<number>
  readonly loadAverageEnd: ReadonlyArray<number>
}

export interface Report {
  readonly startedAt: string
  readonly command: string
  readonly machine: Machine
  readonly sqlMethod: string
  /** Action weights of the virtual users. */
  readonly mix: Readonly<Record<string, number>>
  readonly rows: ReadonlyArray<Row>
  readonly ramp: RampResult | undefined
  readonly soak: SoakResult | undefined
  /** Scenarios f (scale-out) and g (takeover), when they ran. */
  readonly cluster?: ClusterResult | undefined
  readonly notes: ReadonlyArray<string>
}

export const errorsOf = (row: Row): number =>
  row.measurement.window.unanswered +
  row.measurement.window.failures +
  row.measurement.window.badRequests +
  row.unansweredAtEnd

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2))
const mb = (bytes: number | undefined) => (bytes === undefined ? "—" : (bytes / 1_048_576).toFixed(0))
const num = (value: number | undefined, digits = 2) => (value === undefined ? "—" : value.toFixed(digits))

const errorText = (row: Row) => {
  const w = row.measurement.window
  const parts: Array<string> = []
  if (w.unanswered + row.unansweredAtEnd > 0) parts.push(`${w.unanswered + row.unansweredAtEnd} no reply`)
  if (w.failures > 0) parts.push(`${w.failures} apologies`)
  if (w.badRequests > 0) parts.push(`${w.badRequests} rejected (400)`)
  return parts.length === 0 ? "0" : parts.join(", ")
}

const load = (row: Row) => (row.paceMs === 0 ? `${row.users} users, closed loop` : `${row.users} users × 1 per ${row.paceMs / 1000} s`)

const tableHeader =
  "| scenario | load | updates/s | p50 ms | p95 ms | p99 ms | user p99 ms | SQL/update (w/o tx) | peak RSS MB | state entries | CPU bot / db | bot CPU ms/update | errors |\n" +
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"

export const tableRow = (row: Row): string => {
  const m = row.measurement
  const w = m.window
  const sql =
    m.sqlPerUpdateWithoutTransactionControl === undefined
      ? num(m.sqlPerUpdate)
      : `${num(m.sqlPerUpdate)} (${num(m.sqlPerUpdateWithoutTransactionControl)})`
  return (
    `| ${row.id} ${row.title} | ${load(row)} | ${w.updatesPerSecond.toFixed(0)} | ${ms(w.latency.p50)} | ${ms(w.latency.p95)} | ` +
    `${ms(w.latency.p99)} | ${ms(w.userLatency.p99)} | ${sql} | ${mb(m.peakRssBytes)} | ` +
    `${m.stateEntriesMax === undefined ? "—" : m.stateEntriesMax.toFixed(0)} | ${num(m.botCpu)} / ${num(m.databaseCpu)} | ${num(m.botCpuMsPerUpdate, 3)} | ${errorText(row)} |`
  )
}

export const markdown = (report: Report): string => {
  const lines: Array<string> = []
  const m = report.machine
  lines.push(`# Benchmark ${report.startedAt}`, "")
  lines.push(`Command: \`${report.command}\``, "")
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(0)} GB RAM, ${m.os}, Node ${m.node}; database: ${m.database}. ` +
      `Load average at start ${m.loadAverageStart.map((x) => x.toFixed(2)).join(" / ")}, at end ${m.loadAverageEnd.map((x) => x.toFixed(2)).join(" / ")}. ` +
      "The bot, the database and the emulator (load generator) share these cores.",
    ""
  )
  lines.push(
    `Mix (weights of the actions virtual users pick): ${Object.entries(report.mix).map(([kind, weight]) => `${kind} ${weight}`).join(", ")}. ` +
      "Seeded: 1,000 approved confessions, 20,000 comments.",
    ""
  )
  const main = report.rows.filter((r) => !r.id.startsWith("c@"))
  if (main.length > 0) {
    lines.push(tableHeader)
    for (const row of main) lines.push(tableRow(row))
    lines.push("")
  }
  const a = report.rows.find((r) => r.id === "a")
  const b = report.rows.find((r) => r.id === "b")
  if (a && b && a.measurement.window.updatesPerSecond > 0) {
    lines.push(
      `**(b) / (a) throughput: ${(b.measurement.window.updatesPerSecond / a.measurement.window.updatesPerSecond).toFixed(1)}×** ` +
        `(${b.measurement.window.updatesPerSecond.toFixed(0)} vs ${a.measurement.window.updatesPerSecond.toFixed(0)} updates/s).`,
      ""
    )
  }
  if (report.ramp) {
    lines.push("Ramp (c): users at Telegram's per-chat pace (one update per user per second at most):", "")
    lines.push(tableHeader.replace("| scenario |", "| step |"))
    for (const step of report.ramp.steps) lines.push(`${tableRow(step)}`.replace(/\|\s*$/, `| ${step.passed ? "ok" : step.reason} |`))
    lines.push("")
    const s = report.ramp.saturation
    lines.push(
      s
        ? `**Saturation point: ${s.users} users, ${s.updatesPerSecond.toFixed(0)} updates/s** (the last step with p99 offered → reply ≤ 1 s, no errors, and throughput ≥ 90 % of the offered rate; *user p99* is shown beside it).`
        : "**Saturation point: below the first step.**",
      ""
    )
  }
  if (report.soak) {
    const s = report.soak
    lines.push(
      `Soak (d): ${load(s.row)} for ${(s.row.measurement.window.seconds / 60).toFixed(1)} min; resident memory ${mb(s.rssStartBytes)} MB at the start, ` +
        `${mb(s.rssEndBytes)} MB at the end (${s.driftPercent === undefined ? "—" : `${s.driftPercent >= 0 ? "+" : ""}${s.driftPercent.toFixed(1)} %`}), ` +
        `peak ${mb(s.row.measurement.peakRssBytes)} MB; state entries at most ${s.row.measurement.stateEntriesMax ?? "—"}.`,
      ""
    )
  }
  if (report.cluster) lines.push(...clusterSection(report.cluster))
  const ours = report.rows.find((r) => r.id === "e:ours")
  const grammy = report.rows.find((r) => r.id === "e:grammy")
  if (ours && grammy && grammy.measurement.window.updatesPerSecond > 0) {
    lines.push(
      `**Engine only (e): ours / grammY runner = ${(ours.measurement.window.updatesPerSecond / grammy.measurement.window.updatesPerSecond).toFixed(2)}×** ` +
        `(${ours.measurement.window.updatesPerSecond.toFixed(0)} vs ${grammy.measurement.window.updatesPerSecond.toFixed(0)} updates/s).`,
      ""
    )
  }
  lines.push("Columns:", "")
  lines.push(
    "- *updates/s*: replies received per second during the measured window (after a warm-up).",
    "- *p50/p95/p99*: end-to-end latency, from the update being handed out by getUpdates for the first time to the bot's reply arriving at the emulator. *user p99* counts from the moment the virtual user sent it (includes time waiting in the emulator until the bot asked for more).",
    `- *SQL/update*: ${report.sqlMethod}`,
    "- *peak RSS*: the bot process's VmHWM from /proc (with embedded PGlite this includes the database).",
    "- *state entries*: the largest `confessions_state_entries` seen on /metrics.",
    "- *CPU bot / db*: CPU time of the bot process, and of the PostgreSQL backends serving the scenario's database, divided by wall time (1.00 = one core busy).",
    "- *bot CPU ms/update*: CPU time of the bot process during the window (user + system, from /proc) divided by the updates answered in it.",
    "- *errors*: updates that got no reply (within the reply timeout or after the load stopped), replies that were the router's apology, requests the emulator rejected.",
    ""
  )
  for (const note of report.notes) lines.push(`- ${note}`)
  lines.push("")
  return lines.join("\n")
}

// ---- the chart --------------------------------------------------------------------------------------------------

interface Series {
  readonly name: string
  readonly color: string
  readonly points: ReadonlyArray<readonly [number, number]>
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/**
 * Latency (log scale, ms) against throughput (updates/s): p50, p95 and p99 per load step, with the 100 ms and
 * 1 s lines of the issue's targets.
 */
export const latencyChart = (rows: ReadonlyArray<Row>, title: string, connect: boolean): string => {
  const width = 900
  const height = 520
  const left = 80
  const right = 30
  const top = 50
  const bottom = 70
  const series: ReadonlyArray<Series> = [
    { name: "p50", color: "#2b8a3e", points: rows.map((r) => [r.measurement.window.updatesPerSecond, r.measurement.window.latency.p50]) },
    { name: "p95", color: "#e67700", points: rows.map((r) => [r.measurement.window.updatesPerSecond, r.measurement.window.latency.p95]) },
    { name: "p99", color: "#c92a2a", points: rows.map((r) => [r.measurement.window.updatesPerSecond, r.measurement.window.latency.p99]) }
  ]
  const xs = rows.map((r) => r.measurement.window.updatesPerSecond)
  const xMax = niceCeiling(Math.max(100, ...xs))
  const yMin = 0.1
  const yMax = 100_000
  const x = (v: number) => left + (v / xMax) * (width - left - right)
  const y = (v: number) => {
    const clamped = Math.min(yMax, Math.max(yMin, v))
    return top + (1 - (Math.log10(clamped) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (height - top - bottom)
  }
  const parts: Array<string> = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`
  )
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    const yy = y(decade)
    parts.push(
      `<line x1="${left}" y1="${yy}" x2="${width - right}" y2="${yy}" stroke="#e9ecef"/>`,
      `<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`}</text>`
    )
  }
  for (let i = 0; i <= 5; i++) {
    const value = (xMax / 5) * i
    const xx = x(value)
    parts.push(
      `<line x1="${xx}" y1="${top}" x2="${xx}" y2="${height - bottom}" stroke="#f1f3f5"/>`,
      `<text x="${xx}" y="${height - bottom + 20}" text-anchor="middle">${value.toFixed(0)}</text>`
    )
  }
  for (const [limit, label] of [
    [100, "100 ms"],
    [1000, "1 s"]
  ] as const) {
    parts.push(
      `<line x1="${left}" y1="${y(limit)}" x2="${width - right}" y2="${y(limit)}" stroke="#868e96" stroke-dasharray="6 4"/>`,
      `<text x="${width - right - 4}" y="${y(limit) - 5}" text-anchor="end" fill="#495057">${label}</text>`
    )
  }
  parts.push(
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 25}" text-anchor="middle">throughput (updates/s answered)</text>`,
    `<text x="20" y="${(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(top + height - bottom) / 2})">latency offered → reply (log)</text>`
  )
  series.forEach((s, index) => {
    const path = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ")
    if (connect) parts.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
    for (const [px, py] of s.points) parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${s.color}"/>`)
    const lx = left + 20 + index * 80
    parts.push(
      `<line x1="${lx}" y1="${top + 12}" x2="${lx + 22}" y2="${top + 12}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${lx + 28}" y="${top + 16}">${s.name}</text>`
    )
  })
  rows.forEach((r) => {
    parts.push(
      `<text x="${x(r.measurement.window.updatesPerSecond).toFixed(1)}" y="${(y(r.measurement.window.latency.p99) - 9).toFixed(1)}" text-anchor="middle" font-size="10" fill="#495057">${escapeXml(connect ? String(r.users) : r.id)}</text>`
    )
  })
  parts.push(`<text x="${width - right}" y="${height - 8}" text-anchor="end" font-size="11" fill="#868e96">labels: ${connect ? "virtual users" : "scenario"}</text>`)
  parts.push("</svg>")
  return parts.join("\n")
}

const niceCeiling = (value: number) => {
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude
  return 10 * magnitude
}

/** Renders `svgFile` to `pngFile` with whichever converter exists; returns the tool used, or `undefined`. */
export const renderPng = (svgFile: string, pngFile: string): string | undefined => {
  const attempts: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["rsvg-convert", ["-o", pngFile, svgFile]],
    ["convert", ["-density", "110", svgFile, pngFile]]
  ]
  for (const [tool, args] of attempts) {
    const result = spawnSync(tool, args, { stdio: "ignore", timeout: 60_000 })
    if (result.status === 0) return tool
  }
  return undefined
}
