/**
 * What a task did, event by event, for the event-time timeline picture
 * (`tidemark timeline`): one line of NDJSON each. `node` names the task
 * (`<applicationId>/<taskId>`) or a producer; `seq` orders one node's
 * events. Times are the records' timestamps, and the clocks' values.
 */
export type TraceEvent =
  | { readonly node: string; readonly seq: number; readonly kind: 'record'; readonly time: number; readonly key?: string | undefined; readonly late: boolean; readonly stream: string; readonly partition: number; readonly offset: number }
  | { readonly node: string; readonly seq: number; readonly kind: 'stream-time'; readonly time: number }
  | { readonly node: string; readonly seq: number; readonly kind: 'watermark'; readonly time: number }
  | { readonly node: string; readonly seq: number; readonly kind: 'watermark-record'; readonly time: number; readonly producer: string; readonly stream: string; readonly partition: number; readonly offset: number };
