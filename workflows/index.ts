export { pipeline, progressQuery } from './pipeline';
export type { PipelineInput, PipelineResult } from './pipeline';
