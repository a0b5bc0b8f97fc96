// The user's own corner: /profile (or 👤 Profile) with numbers from the stats cache, /myconfessions paged in place,
// and the anonymity default (/anonymous_on, /anonymous_off, 🎭 Toggle anonymity). Changing the default forgets the
// user's cached profile, since the profile shows it.
import { Clock, Effect, Layer } from "effect"
import * as BotCall from "../domain/BotCall.ts"
import type { UserId } from "../domain/Ids.ts"
import { Confessions } from "../services/Confessions.ts"
import { Courier } from "../services/Courier.ts"
import { StatsCache } from "../services/StatsCache.ts"
import { Telegram } from "../services/Telegram.ts"
import { Users } from "../services/Users.ts"
import { Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"
import * as ProfileViews from "../views/ProfileViews.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const users = yield* Users
    const stats = yield* StatsCache
    const confessions = yield* Confessions
    const telegram = yield* Telegram
    const courier = yield* Courier

    const profileView = (user: UserId) => Effect.map(stats.profileOf(user), ProfileViews.profile)

    /** The new default and its confirmation commit together. */
    const setAnonymity = (user: UserId, anonymous: boolean, answer: BotCall.BotCall) =>
      Effect.andThen(
        courier.commit(Effect.andThen(users.setAnonymity(user, anonymous), courier.answer([answer]))),
        stats.forget(user)
      )

    /** One page of the user's confessions; an empty history gets an invitation instead of an empty list. */
    const myConfessions = (user: UserId, page: number) =>
      Effect.gen(function* () {
        const found = yield* confessions.listByAuthor({ author: user, page, pageSize: ConfessionViews.pageSize })
        if (found.items.length === 0) return { text: Messages.noConfessionsYet } satisfies Keyboards.View
        return ConfessionViews.myConfessionsPage(found, yield* Clock.currentTimeMillis)
      })

    /** Buttons edit their own message; without one (too old for Telegram to say), a new message is sent. */
    const showInPlace = (chatId: number, messageId: number | undefined, view: Keyboards.View) =>
      telegram.sendOrEdit(chatId, messageId, view.text, { replyMarkup: view.keyboard })

    yield* router.onButtonText(Keyboards.labels.profile, "profile")
    yield* router.onCommand(
      "profile",
      Effect.fn("Profile.show")(function* (context) {
        const view = yield* profileView(context.user.id)
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      })
    )

    yield* router.onCallback(
      "ToggleAnonymity",
      Effect.fn("Profile.toggleAnonymity")(function* (context) {
        const anonymous = !context.user.anonymousDefault
        yield* setAnonymity(
          context.user.id,
          anonymous,
          BotCall.answerCallback(context.callbackQueryId, Messages.anonymityToast(anonymous))
        )
        // The card shows the new default; a refresh of what is on screen, the toast above confirms the change.
        yield* showInPlace(context.chatId, context.messageId, yield* profileView(context.user.id))
      })
    )

    for (const [command, anonymous] of [
      ["anonymous_on", true],
      ["anonymous_off", false]
    ] as const) {
      yield* router.onCommand(
        command,
        Effect.fn("Profile.setAnonymity")(function* (context) {
          yield* setAnonymity(
            context.user.id,
            anonymous,
            BotCall.sendMessage(context.chatId, Messages.anonymityChanged(anonymous))
          )
        })
      )
    }

    yield* router.onCommand(
      "myconfessions",
      Effect.fn("Profile.myConfessions")(function* (context) {
        const view = yield* myConfessions(context.user.id, 1)
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      })
    )

    yield* router.onCallback(
      "MyConfessionsPage",
      Effect.fn("Profile.myConfessionsPage")(function* (context) {
        const view = yield* myConfessions(context.user.id, context.action.page)
        // The profile card's 📝 button turns the card into the list; the list's arrows page in place.
        yield* showInPlace(context.chatId, context.messageId, view)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )
  })
)
