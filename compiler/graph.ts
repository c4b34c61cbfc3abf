import type { ValidatedPipeline } from './validate';

/** The pipeline's DAG as a Mermaid flowchart: artifact edges are labelled, `needs` edges dashed, conditional steps marked. */
export function toMermaid(pipeline: ValidatedPipeline): string {
  const lines = ['flowchart TD'];
  for (const step of pipeline.spec.steps) {
    const analysis = pipeline.steps.get(step.id);
    const shape = analysis?.when ? [`{{"`, `"}}`] : [`["`, `"]`];
    const label = `${step.id}<br/><small>${step.uses}${step.queue === 'gpu' ? ' · gpu' : ''}${analysis?.when ? ' · when' : ''}</small>`;
    lines.push(`  ${step.id}${shape[0]}${label}${shape[1]}`);
  }
  for (const step of pipeline.spec.steps) {
    const analysis = pipeline.steps.get(step.id);
    if (!analysis) continue;
    const wired = new Set<string>();
    for (const [input, wire] of Object.entries(analysis.inputs)) {
      wired.add(wire.step);
      const label = wire.output === input ? input : `${wire.output} → ${input}`;
      lines.push(`  ${wire.step} -->|${label}| ${step.id}`);
    }
    for (const dep of analysis.dependsOn) if (!wired.has(dep)) lines.push(`  ${dep} -.-> ${step.id}`);
  }
  return lines.join('\n') + '\n';
}
