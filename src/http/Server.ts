// The one HTTP server (HTTP_PORT): health, metrics and, in webhook mode, the webhook route.
import { NodeHttpServer } from "@effect/platform-node"
import { Layer } from "effect"
import { HttpRouter } from "effect/http"
import { createServer } from "node:http"

export const layer = <E, R>(routes: Layer.Layer<never, E, R>, options: { readonly port: number }) =>
  HttpRouter.serve(routes, { disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: "0.0.0.0" }))
  )
