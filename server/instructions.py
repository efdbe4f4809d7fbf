"""Server instructions: what an assistant reads on connect to pick the right tool for a question."""

from __future__ import annotations

INSTRUCTIONS = """\
icp-mcp answers Ideal Customer Profile (ICP) questions from this company's own buyer archive (accounts,
deals, revenue, contacts, conversations, product usage). Every answer carries evidence (counts n, rates,
intervals, snippet ids): quote it, and cite the tool and the ids you used. Never invent numbers.

Which tool answers which question:
- "Does <account> fit our ICP?", "Should we pursue <company>?", "Score this prospect" -> score_account
  (account id, domain or name; or raw attributes for a prospect not in the archive). Unknown names return
  candidates: pick one and call again.
- "Why is <account> disqualified?", "What does rule <id> mean, is it still true?" -> explain_disqualifier
  (rule_id, or account to explain that account's hits).
- "Who are our best customers?", "Top 20 customers in <segment>" -> best_customers (paginate with
  cursor = next_cursor).
- "Who should I talk to there?", "Which roles and titles win deals?" -> resource icp://personas.
- "What is our ICP?", "Summarise the current ICP" -> resource icp://current (markdown) or icp://current.json.
- "Which ICP versions exist / what changed?" -> resources icp://versions and icp://versions/{version}.
- "What data is in the archive?" -> resource archive://schema.
- "What did our best customers say about <topic> last month?" -> customer_voice (topic or question, cohort
  such as best / best:20 / icp / tier:A / segment:<id>, since/until such as last_month or 30d, persona);
  quote snippets with their snippet_id, account and date.
- "Which segments use <feature>, and do they retain better?" -> feature_adoption (feature, by).
- "Has our ICP drifted? Should we refresh it?" -> check_drift (verdict stable / watch / refresh with
  reasons), then derive_icp if it says refresh.
- "Refresh / re-derive the ICP" -> derive_icp (writes a DRAFT version only; progress is reported).
  Then activate_icp with that version; activation asks the user to confirm. Only activate when the user
  explicitly asked for it.

Lists are capped (default 20, max 200) and text is cut at 500 characters; `truncated: true` says so.
Errors name the bad field and the allowed values: correct the call rather than guessing.
"""
