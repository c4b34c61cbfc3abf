/** The gRPC status codes the CLI tells apart in the Temporal server's answers. */
export const GRPC_CODES = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;
