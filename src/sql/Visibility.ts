// The one visibility rule for what people see: a confession is visible when it is approved (not pending, rejected or
// deleted); a comment (or reply) when it is not hidden and its confession is visible. Every read path that shows
// content to anyone but a moderator or its own writer, and every action on content (comment, reply, react, report),
// builds its SQL from these fragments, so a forged button on unpublished or removed content finds nothing. Paths that
// must see more read the tables directly and say so: the moderators' (the report alert, /pending, decisions on
// reported comments) and a writer's own lists ("My confessions", "My comments", the profile numbers).
import type { SqlClient, Statement } from "effect/sql"

/** `confession` (a table alias) is visible: approved. */
export const confessionVisible = (sql: SqlClient.SqlClient, confession: string): Statement.Fragment =>
  sql`${sql(confession)}.status = 'approved'`

/**
 * `comment` is visible: not hidden, and its confession `confession` (already joined on `comment.confession_id`) is
 * visible. Written `not <alias>.hidden` so the planner can use the partial indexes on `not hidden`.
 */
export const commentVisible = (sql: SqlClient.SqlClient, comment: string, confession: string): Statement.Fragment =>
  sql`not ${sql(comment)}.hidden and ${confessionVisible(sql, confession)}`

/**
 * A `from` target of the visible comments, each with its confession's author as `confession_author_id` (for the
 * "author" tag only); give it an alias: `from ${visibleComments(sql)} as m`.
 */
export const visibleComments = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql`(
    select c.*, f.author_id as confession_author_id
    from comments c join confessions f on f.id = c.confession_id
    where ${commentVisible(sql, "c", "f")}
  )`

/** A `from` target of the visible confessions; give it an alias. */
export const visibleConfessions = (sql: SqlClient.SqlClient): Statement.Fragment =>
  sql`(select * from confessions f where ${confessionVisible(sql, "f")})`
