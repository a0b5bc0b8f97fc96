// A person's own data on screen: the /mydata file (pretty-printed JSON, so it reads in any text editor) and the
// /forget question with its three buttons. Pure.
import * as CallbackData from "../domain/CallbackData.ts"
import { type PersonalExport, toDocument } from "../domain/PersonalData.ts"
import { button, inline, type View } from "./Keyboards.ts"
import * as Messages from "./Messages.ts"

export interface File {
  readonly fileName: string
  readonly content: Uint8Array
}

export const myDataFileName = "mydata.json"

/** The /mydata document: what it is, then the data, two-space indented, UTF-8. */
export const myDataFile = (data: PersonalExport, exportedAt: Date): File => ({
  fileName: myDataFileName,
  content: new TextEncoder().encode(
    `${JSON.stringify({ about: Messages.myDataAbout, ...toDocument(data, exportedAt) }, null, 2)}\n`
  )
})

/** What /forget erases, and the choice about published confessions; nothing happens before a button is pressed. */
export const forgetQuestion: View = {
  text: Messages.forgetQuestion,
  keyboard: inline([
    [button(Messages.forgetKeepPostsLabel, CallbackData.ForgetKeepPosts())],
    [button(Messages.forgetDeletePostsLabel, CallbackData.ForgetDeletePosts())],
    [button(Messages.forgetCancelLabel, CallbackData.ForgetCancel())]
  ])
}
