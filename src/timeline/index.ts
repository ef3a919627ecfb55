/**
 * The event-time timeline of a run (`tidemark timeline`): its trace parsed,
 * and drawn as a standalone SVG or an HTML page around that SVG.
 *
 * A trace is NDJSON written by the runtime, one {@link TraceEvent} per line,
 * possibly in several files (one per OS process of a scenario). Rendering is
 * a pure function of the events — no clock, no randomness, no locale, no
 * external resource — so the same trace always gives the same bytes, and a
 * picture can be diffed or checked in next to the run it shows.
 *
 * The files, in order: reading a trace (`timeline-data.ts`), lanes and
 * counts (`timeline-lanes.ts`), the event-time axis (`timeline-scale.ts`),
 * markup shared by both pictures (`timeline-markup.ts`), the SVG
 * (`timeline-svg.ts`, which explains the layout) and the page
 * (`timeline-html.ts`).
 *
 * @module
 */
export { parseTrace, TraceError, type TraceEvent, type TraceEventKind } from './timeline-data.ts';
export { compareNames, describeSummary, summarizeTrace, type TraceSummary } from './timeline-lanes.ts';
export { escapeXml } from './timeline-markup.ts';
export { renderTimelineSvg, type TimelineOptions } from './timeline-svg.ts';
export { renderTimelineHtml } from './timeline-html.ts';
