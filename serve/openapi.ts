import { TRAIN_TASKS } from '../core/metrics';
/** The OpenAPI 3.1 description of the inference API, served at /openapi.json. */
export function openApiDocument() {
  const error = {
    description: 'A JSON error: `{"error": {"code", "message"}}`.',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pipewright inference API',
      version: '1',
      description:
        'Predictions from models deployed by Pipewright pipelines. The predict route takes the TensorFlow Serving REST shape.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
          },
        },
        Model: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            version: { type: ['integer', 'null'] },
            state: { enum: ['serving', 'not_loaded'] },
            task: {
              enum: [...TRAIN_TASKS],
              description:
                'What the served version answers: labels (classification), entities (token classification), answer spans (question answering) or generated replies (seq2seq).',
            },
            labels: {
              type: 'array',
              items: { type: 'string' },
              description: 'Class labels, or the tags of a token-classification model.',
            },
          },
        },
        PredictRequest: {
          type: 'object',
          required: ['instances'],
          properties: {
            instances: {
              type: 'array',
              minItems: 1,
              items: {
                oneOf: [
                  { type: 'string' },
                  { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
                  {
                    type: 'object',
                    description: 'For a question-answering model: a question about a context of any length.',
                    required: ['question', 'context'],
                    properties: { question: { type: 'string' }, context: { type: 'string' } },
                  },
                ],
              },
            },
            top_k: {
              type: 'integer',
              minimum: 1,
              default: 3,
              description:
                'How many of the most likely labels (classification) or answer spans (question answering) to return.',
            },
          },
        },
        ClassPrediction: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            probability: { type: 'number' },
            top_k: {
              type: 'array',
              items: {
                type: 'object',
                properties: { label: { type: 'string' }, probability: { type: 'number' } },
              },
            },
          },
        },
        EntityPrediction: {
          type: 'object',
          description:
            "A token-classification model's entities. The text is split into words at whitespace and at every punctuation character; each word takes the tag predicted on its first sub-token (O if it lies beyond the model's length); consecutive words become an entity by the IOB2 rule the validation metrics use (seqeval, CoNLL).",
          properties: {
            entities: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  type: { type: 'string', description: 'The entity type, e.g. PER.' },
                  text: { type: 'string', description: 'The covered text, as sent.' },
                  start: { type: 'integer', description: 'UTF-16 offset of the first character in the text sent.' },
                  end: { type: 'integer', description: 'UTF-16 offset just past the last character.' },
                  score: {
                    type: 'number',
                    description: "Mean over the entity's words of the predicted tag's probability.",
                  },
                },
              },
            },
          },
        },
        AnswerPrediction: {
          type: 'object',
          description:
            "A question-answering model's answer: the best span of the context over all its windows (cut as training cut them); its score is the softmax of the span scores (start plus end logit) over the candidate spans.",
          properties: {
            answer: { type: 'string', description: 'The answer, as it stands in the context.' },
            start: { type: 'integer', description: 'UTF-16 offset of its first character in the context sent.' },
            end: { type: 'integer', description: 'UTF-16 offset just past its last character.' },
            score: { type: 'number' },
            top_k: {
              type: 'array',
              description: 'The best spans, the answer first.',
              items: {
                type: 'object',
                properties: {
                  answer: { type: 'string' },
                  start: { type: 'integer' },
                  end: { type: 'integer' },
                  score: { type: 'number' },
                },
              },
            },
          },
        },
        GeneratedText: {
          type: 'object',
          description: "A seq2seq model's reply to the text sent, decoded greedily until the end-of-text token.",
          properties: {
            text: { type: 'string', description: 'The reply.' },
            tokens: { type: 'integer', description: 'Tokens generated, the end-of-text token not counted.' },
          },
        },
        PredictResponse: {
          type: 'object',
          properties: {
            model: { type: 'string' },
            version: { type: 'integer' },
            predictions: {
              type: 'array',
              description: "One per instance, shaped by the model's task.",
              items: {
                oneOf: [
                  { $ref: '#/components/schemas/ClassPrediction' },
                  { $ref: '#/components/schemas/EntityPrediction' },
                  { $ref: '#/components/schemas/AnswerPrediction' },
                  { $ref: '#/components/schemas/GeneratedText' },
                ],
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/v1/models': {
        get: {
          summary: 'The served models and their versions',
          responses: {
            '200': {
              description: 'Models',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { models: { type: 'array', items: { $ref: '#/components/schemas/Model' } } },
                  },
                },
              },
            },
            '401': error,
          },
        },
      },
      '/v1/models/{name}': {
        get: {
          summary: 'One model: version, labels, validation metrics and lineage',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The model' }, '401': error, '404': error },
        },
      },
      '/v1/models/{name}/report': {
        get: {
          summary:
            'The HTML report of the run that made the served version: training curves, scores, confusions, mistakes, lineage',
          description:
            'One self-contained page (no scripts or styles from elsewhere), under a Content-Security-Policy that lets it load nothing.',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The report', content: { 'text/html': {} } },
            '401': error,
            '404': error,
          },
        },
      },
      '/v1/models/{name}/versions/{version}/report': {
        get: {
          summary: 'The HTML report of the run that made one version of the model',
          parameters: [
            { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
          ],
          responses: {
            '200': { description: 'The report', content: { 'text/html': {} } },
            '401': error,
            '404': error,
          },
        },
      },
      '/v1/models/{name}:predict': {
        post: {
          summary:
            'Answer texts: for a classifier the label, its probability and the top k labels; for a token-classification model the entities with character offsets; for a question-answering model the answer span of each context',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' } } },
          },
          responses: {
            '200': {
              description: 'Predictions, in the order of the instances',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } },
            },
            '400': error,
            '401': error,
            '404': error,
            '405': error,
            '413': error,
            '503': error,
          },
        },
      },
      '/v1/chat/completions': {
        post: {
          summary:
            "Reply to a conversation with a seq2seq model, in OpenAI's chat completions shapes (its clients work unchanged)",
          description:
            'Request: `model`, `messages` (roles system, user, assistant; the last from the user; system messages are accepted and not read), `temperature` (0-2, default 1; 0 is greedy), `top_p`, `max_tokens` or `max_completion_tokens` (up to the model positions), `n` (1-8), `seed` (the same seed, the same replies), `stop` (up to 4 strings), `stream` (server-sent events of chat.completion.chunk objects ending in `data: [DONE]`; `stream_options.include_usage` adds a usage chunk). Response: a chat.completion with `choices` and `usage` token counts. Concurrent requests are decoded in one batch; a client that disconnects stops its generation. Errors have OpenAI shape, with `param` naming the field at fault; a conversation longer than the model reads is 400 `context_length_exceeded`.',
          responses: {
            '200': { description: 'A chat.completion object, or with `stream` a text/event-stream of chunks' },
            '400': error,
            '401': error,
            '404': error,
            '405': error,
            '413': error,
          },
        },
      },
      '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Every served model has a version loaded',
          responses: { '200': { description: 'ready' }, '503': { description: 'some model is not loaded' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          description: 'Needs the bearer token when the server has one, unless it was started with --public-metrics.',
          responses: { '200': { description: 'text format 0.0.4' }, '401': { description: 'no or a wrong token' } },
        },
      },
    },
  };
}
