export { approveSignal, pipeline, progressQuery } from './pipeline';
export type { ApprovalDecision, PipelineInput, PipelineResult } from './pipeline';
export { stepProgressSignal, stopTrainingSignal, training, trainingProgressQuery } from './training';
export type { TrainingInput } from './training';
