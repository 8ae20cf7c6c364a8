// The OpenTelemetry SDK with in-memory exporters: what a test reads back after recording.
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

/** One data point of a metric: its attributes and its value (a sum, or a histogram's count). */
export interface Point {
  attributes: Record<string, unknown>
  value: number
}

export function createTestSdk() {
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })

  async function collect() {
    metricExporter.reset()
    await reader.forceFlush()
    return metricExporter.getMetrics()
  }
  return {
    meterProvider,
    tracerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    collect,
    /** The data points of the metric `name`, as last collected. */
    async points(name: string): Promise<Point[]> {
      const metrics = (await collect()).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      const metric = metrics.find((m) => m.descriptor.name === name)
      return (metric?.dataPoints ?? []).map((p) => ({
        attributes: p.attributes,
        value: typeof p.value === 'number' ? p.value : (p.value as { count: number }).count,
      }))
    },
    /** Everything exported, as text: for scanning for secrets. */
    async dump(): Promise<string> {
      const spans = spanExporter.getFinishedSpans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
        links: s.links,
      }))
      return JSON.stringify({ spans, metrics: await collect() })
    },
    async shutdown() {
      await meterProvider.shutdown()
      await tracerProvider.shutdown()
    },
  }
}

/** The sum of the points whose attributes include `match`. */
export function total(points: Point[], match: Record<string, unknown> = {}): number {
  return points
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0)
}
