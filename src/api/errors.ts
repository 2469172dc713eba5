/** Maps the node's coded errors to HTTP statuses and one JSON error shape. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { BusyError, InvalidInputError, NotFoundError, RejectedError, ZlError } from "../errors/index.js";

export function httpStatusOf(err: ZlError): number {
  if (err instanceof InvalidInputError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof RejectedError) return 422;
  if (err instanceof BusyError) return 503;
  return 500;
}

export function errorBody(err: ZlError) {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(Object.keys(err.meta).length ? { meta: err.meta } : {}),
    },
  };
}

export function errorHandler(err: FastifyError | ZlError, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ZlError) {
    void reply.status(httpStatusOf(err)).send(errorBody(err));
    return;
  }
  if ((err as FastifyError).validation) {
    void reply.status(400).send({ error: { code: "API_BAD_REQUEST", message: err.message } });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    void reply
      .status(status)
      .send({ error: { code: (err as FastifyError).code ?? "API_BAD_REQUEST", message: err.message } });
    return;
  }
  req.log.error({ err: err.message }, "unhandled API error");
  void reply.status(500).send({ error: { code: "INTERNAL", message: "internal error; see the node's log" } });
}
