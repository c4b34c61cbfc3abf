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
            labels: { type: 'array', items: { type: 'string' } },
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
                ],
              },
            },
            top_k: { type: 'integer', minimum: 1, default: 3 },
          },
        },
        PredictResponse: {
          type: 'object',
          properties: {
            model: { type: 'string' },
            version: { type: 'integer' },
            predictions: {
              type: 'array',
              items: {
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
      '/v1/models/{name}:predict': {
        post: {
          summary: 'Classify texts: the label, its probability and the top k labels for each instance',
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
      '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Every served model has a version loaded',
          responses: { '200': { description: 'ready' }, '503': { description: 'some model is not loaded' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text format 0.0.4' } } },
      },
    },
  };
}
