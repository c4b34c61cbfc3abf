export { pipeline, progressQuery } from './pipeline';
export type { PipelineInput, PipelineResult } from './pipeline';
export { stepProgressSignal, stopTrainingSignal, training, trainingProgressQuery } from './training';
export type { TrainingInput } from './training';
