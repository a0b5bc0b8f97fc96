// /start and /register: every update registers its sender already (in the router), so this only greets and puts the
// main keyboard under the input field. `/start c<ID>` deep links are routed to the comments feature by the router;
// a payload that is not a valid deep link lands here and gets the greeting.
import { Effect, Layer } from "effect"
import { Telegram } from "../services/Telegram.ts"
import { Router } from "../updates/Router.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram

    yield* router.onCommand(
      ["start", "register"],
      Effect.fn("Start.greet")(function* (context) {
        yield* telegram.sendMessage(context.chatId, Messages.greeting(context.user.firstName), {
          replyMarkup: Keyboards.main
        })
      })
    )
  })
)
