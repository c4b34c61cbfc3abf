import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The pipeline a run runs, as a search attribute: the Web UI's run list and `pipewright list
 * --pipeline` filter by it (`PipewrightPipeline = "snips-intent"`). The dev servers Pipewright
 * starts register it; another server needs `temporal operator search-attribute create --name
 * PipewrightPipeline --type Keyword`.
 */
export const PIPELINE_SEARCH_ATTRIBUTE = defineSearchAttributeKey('PipewrightPipeline', SearchAttributeType.KEYWORD);
