"""Server instructions: what an assistant reads on connect to pick the right tool for a question.

Kept under 400 tokens (tests/test_surface_size.py): each journey is one tool call, so the text only maps
questions to tools and says how to read and cite the evidence.
"""

from __future__ import annotations

INSTRUCTIONS = """\
icp-mcp answers Ideal Customer Profile questions from this company's buyer archive (accounts, deals,
revenue, contacts, conversations, product usage). Answers carry their evidence: n, rates (0-1) with Wilson
95% intervals, ids. Quote them, cite the tool and ids, never invent numbers.

One call per question:
- Does <account> fit, why, whom to talk to? -> score_account (id, domain or name; or a prospect's
  attributes). Candidates come back for an unclear name: pick one and call again.
- Why is <value> a disqualifier, does it still hold? -> explain_disqualifier (rule id, value or phrase).
- Best customers -> best_customers. What did they say about <topic>? -> customer_voice (cohort best:20,
  since last_month).
- Which segments use <feature>, do they retain better? -> feature_adoption.
- Has the ICP drifted? -> check_drift; on refresh, derive_icp (a draft), then activate_icp only when the
  user asks (it confirms with them).
- The ICP itself: icp://current; versions: icp://versions; buying roles: icp://personas; data:
  archive://schema.

Answers are compact; detail=true or a higher limit gives more, next_cursor the next page. Errors name the
field and the allowed values: fix the call.
"""
