// GET /metrics in Prometheus text format (Effect's PrometheusMetrics over every Metric in the program), plus the
// process gauges Effect does not record itself: resident memory and heap, sampled every few seconds.
import { Effect, Layer, Metric, Schedule } from "effect"
import type { HttpRouter } from "effect/http"
import { PrometheusMetrics } from "effect/observability"

const residentMemory = Metric.gauge("process_resident_memory_bytes", { description: "Resident set size" })
const heapUsed = Metric.gauge("nodejs_heap_used_bytes", { description: "V8 heap in use" })
const heapTotal = Metric.gauge("nodejs_heap_total_bytes", { description: "V8 heap reserved" })

const sampleProcess = Effect.suspend(() => {
  const usage = process.memoryUsage()
  return Effect.all(
    [Metric.update(residentMemory, usage.rss), Metric.update(heapUsed, usage.heapUsed), Metric.update(heapTotal, usage.heapTotal)],
    { discard: true }
  )
})

const processSampler = Layer.effectDiscard(
  sampleProcess.pipe(Effect.repeat(Schedule.spaced("5 seconds")), Effect.forkScoped)
)

export const layer: Layer.Layer<never, never, HttpRouter.HttpRouter> = Layer.mergeAll(
  PrometheusMetrics.layerHttp({ path: "/metrics" }),
  processSampler
)
