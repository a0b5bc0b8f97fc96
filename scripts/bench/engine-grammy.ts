// Engine-only benchmark, grammY's side: `@grammyjs/runner` (`run(bot)`, default source and sink options) with
// `sequentialize` per user, and the same no-op answers as `engine-ours.ts`: "ok" to every message, an answer to
// every button. Started as a separate process by `run.ts` (scenario e) with BOT_TOKEN and TELEGRAM_API_ROOT.
import { run, sequentialize } from "@grammyjs/runner"
import { Bot } from "grammy"

const token = process.env.BOT_TOKEN ?? ""
const apiRoot = process.env.TELEGRAM_API_ROOT ?? "https://api.telegram.org"

const bot = new Bot(token, { client: { apiRoot } })
bot.use(sequentialize((ctx) => String(ctx.from?.id ?? ctx.chat?.id ?? "")))
bot.on("callback_query", (ctx) => ctx.answerCallbackQuery({ text: "ok" }))
bot.on("message", (ctx) => ctx.reply("ok"))
bot.catch((error) => console.error("handler failed", error.message))

const runner = run(bot)

const stop = () => {
  void runner.stop().finally(() => process.exit(0))
}
process.once("SIGTERM", stop)
process.once("SIGINT", stop)
