// Prometheus text exposition (format 0.0.4), read back: the one parser for the benchmark's /metrics scrapes and the
// tests that check /metrics. Sample lines become name + labels + value; `# HELP` / `# TYPE` and comments are
// skipped; any other line is reported as invalid rather than guessed at.

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Parsed {
  readonly samples: ReadonlyArray<Sample>
  /** Lines that are neither samples, comments nor blank. */
  readonly invalid: ReadonlyArray<string>
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$/
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y

export const parse = (text: string): Parsed => {
  const samples: Array<Sample> = []
  const invalid: Array<string> = []
  for (const line of text.split("\n")) {
    if (line.trim().length === 0 || line.startsWith("#")) continue
    const match = sampleLine.exec(line)
    const value = match === null ? Number.NaN : valueOf(match[3] ?? "")
    const labels = match === null ? undefined : labelsOf(match[2] ?? "")
    if (match === null || labels === undefined || (Number.isNaN(value) && match[3] !== "NaN")) {
      invalid.push(line)
      continue
    }
    samples.push({ name: match[1] ?? "", labels, value })
  }
  return { samples, invalid }
}

/** The sum of every sample named `name` whose labels satisfy `where`; undefined when there is none. */
export const sumOf = (
  samples: ReadonlyArray<Sample> | undefined,
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true
): number | undefined => {
  if (samples === undefined) return undefined
  let found = false
  let total = 0
  for (const sample of samples) {
    if (sample.name === name && where(sample.labels)) {
      found = true
      total += sample.value
    }
  }
  return found ? total : undefined
}

const valueOf = (text: string): number => {
  if (text === "+Inf") return Number.POSITIVE_INFINITY
  if (text === "-Inf") return Number.NEGATIVE_INFINITY
  if (text === "NaN") return Number.NaN
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : Number.NaN
}

const labelsOf = (text: string): Record<string, string> | undefined => {
  const labels: Record<string, string> = {}
  labelPair.lastIndex = 0
  while (labelPair.lastIndex < text.length) {
    const start = labelPair.lastIndex
    const pair = labelPair.exec(text)
    if (pair === null || pair.index !== start) return text.slice(start).trim().length === 0 ? labels : undefined
    labels[pair[1] ?? ""] = (pair[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))
    if (pair[3] === "") break
  }
  return labels
}
