"""Customer language for demo conversations: many phrasings per topic, with slots filled at render time.

Slots: {competitor} {feature} {n} {pct} {seats} {amount} {weeks} {tech} {cert} {product}. The generator
renders every template several times with random slot values (see conversations.py), so the bodies vary
far more than the template count suggests. The planted pricing themes of the best customers live in
`PRICING_THEMES`; their keywords never occur in any other phrase (tests check that).
"""

from __future__ import annotations

TOPICS: tuple[str, ...] = (
    "pricing", "security_compliance", "integrations", "onboarding", "support", "competitors", "roi_value",
    "product_gaps",
)

CUSTOMER: dict[str, tuple[str, ...]] = {
    "pricing": (
        "Honestly, the price is too expensive for a team our size.",
        "We're in a budget freeze until next quarter, so anything new needs a very strong case.",
        "{competitor} quoted us roughly {pct}% less for the same number of users.",
        "The cost per user is hard to justify when only half the team logs in.",
        "Finance asked us to cut spend on tooling by {pct}% this year.",
        "Can you send over the pricing sheet for the {product} tier?",
        "Our budget for this is capped at ${amount}k a year.",
        "The renewal quote went up {pct}% and nobody warned us.",
        "We would need a discount to get this past procurement.",
        "What does {product} cost compared to the tier we are on?",
        "The invoice had {n} extra seats on it that we never asked for.",
        "If the price stays where it is, we'll have to scale back to {seats} seats.",
        "Is the implementation fee negotiable? It doubles the first-year cost.",
        "We're being asked to justify every line of spend, and this one is hard.",
        "Pricing per seat makes it expensive to add the support team.",
    ),
    "security_compliance": (
        "Our security team needs your latest {cert} report before we can move forward.",
        "Do you support SSO through Okta or Azure AD? That's a hard requirement for us.",
        "We have a security questionnaire with about {n} questions; who on your side can own it?",
        "Where is our data stored? We have data residency requirements in the EU.",
        "Legal wants a DPA signed before the pilot starts.",
        "Is data encrypted at rest and in transit, and who holds the keys?",
        "We need an audit trail of who exported what, for {cert}.",
        "Can we enforce MFA for every user, including contractors?",
        "Our infosec review usually takes {weeks} weeks, so let's start it now.",
        "Role-based access control matters to us: managers should only see their own teams.",
        "When was your last penetration test, and can we see the summary?",
        "We had a vendor breach last year, so the security review will be thorough.",
    ),
    "integrations": (
        "The {tech} integration is the main thing we care about.",
        "Does the sync with {tech} work both ways, or only one direction?",
        "We hit the API rate limit at around {n} thousand calls a day.",
        "Our data team wants to sync everything into {tech} nightly.",
        "Is there a webhook when a record changes? We'd rather not poll the API.",
        "We need the {tech} connector to map our custom fields.",
        "The integration with {tech} dropped records twice last week.",
        "Can the API export {feature} data, or only the raw events?",
        "We use {tech} for everything, so if it doesn't integrate it's a non-starter.",
        "Setting up the {tech} sync took our admin about {n} days.",
        "We'd like to push alerts into Slack instead of email.",
        "Is there an SDK, or do we call the REST API directly?",
    ),
    "onboarding": (
        "Onboarding took us about {weeks} weeks, longer than we planned.",
        "We need a training session for the {seats} new users starting next month.",
        "The kickoff was great, but we lost momentum after that.",
        "Can you help us migrate our historical data from {competitor}?",
        "We want to roll out to the EMEA team next quarter.",
        "Our admins need more help with the initial setup and configuration.",
        "The implementation plan you sent looks right; go-live in {weeks} weeks works.",
        "New hires struggle with the learning curve for {feature}.",
        "We got up and running in {n} days, which was faster than expected.",
        "Who on your side owns the rollout once the contract is signed?",
        "Adoption is still low in two teams; can we do another training round?",
    ),
    "support": (
        "We opened a support ticket {n} days ago and we're still waiting on a reply.",
        "The support team was quick to help with the {feature} issue.",
        "{feature} is broken again since this morning.",
        "Can we get a named CSM? Escalations keep bouncing around.",
        "Response times have slipped; our SLA says four hours.",
        "There was an outage yesterday and nobody told us until we asked.",
        "The workaround your engineer suggested for {feature} works for now.",
        "Exports keep failing for reports larger than {n} thousand rows.",
        "Your support engineer went above and beyond on the {tech} problem.",
        "We need someone to follow up on the bug we reported last month.",
        "Dashboards load very slowly in the mornings; is that a known bug?",
    ),
    "competitors": (
        "We're also evaluating {competitor}; they're further along on {feature}.",
        "{competitor} offered to switch us over for free.",
        "Compared to {competitor}, your reporting is much stronger.",
        "Our incumbent is {competitor}, and the team is used to it.",
        "We shortlisted you and {competitor} for the final bake-off.",
        "A few people internally still prefer {competitor} as an alternative for the forecasting piece.",
        "We switched from {competitor} because it couldn't handle our volume.",
        "Procurement wants at least one alternative quote, so {competitor} is in the mix.",
        "Compared to {competitor}, you're missing a native {tech} integration.",
        "We looked at other vendors, but none of them fit our workflow like yours.",
    ),
    "roi_value": (
        "The team saves {n} hours a week on reporting since we rolled it out.",
        "We need a business case with clear ROI before the board meeting.",
        "Our win rate went up {pct}% in the first two quarters.",
        "It paid for itself within {n} months.",
        "Leadership wants to see measurable impact on pipeline, not just activity.",
        "Forecast accuracy improved a lot; the CRO called out the value.",
        "We cut time spent on the weekly report from a day to an hour.",
        "The value is clear for the sales team, less so for marketing.",
        "Can you help us quantify the savings for the renewal discussion?",
        "We reduced churn by {pct}% since we started using the health scores.",
        "Honestly it's been worth it; I can't imagine going back to spreadsheets.",
    ),
    "product_gaps": (
        "We really need the ability to schedule exports of {feature}.",
        "It's missing a way to roll up accounts by parent company.",
        "Is {feature} on your roadmap? It's a must-have for the finance team.",
        "The mobile app lacks offline mode, which our field team needs.",
        "Custom objects are not supported, so we keep a spreadsheet on the side.",
        "We would like the option to bulk edit more than {n} records at once.",
        "The missing {feature} is why we can't move the other teams over.",
        "The permission model is too coarse; per-field control is a must-have.",
        "Reporting can't do cohort views, which is a gap for us.",
        "A sandbox to test changes before they go live would be nice.",
        "Multi-currency is a dealbreaker for the {n} subsidiaries abroad.",
    ),
}

#: Vendor-side replies, per topic (speaker label `Rep:` in calls and meetings).
REP: dict[str, tuple[str, ...]] = {
    "pricing": (
        "Let me put together a couple of options and send them over.",
        "I'll talk to our deal desk about what flexibility we have.",
        "Understood. Would it help if we phased the seats in over the year?",
        "Let's map the seats to actual usage before we talk numbers.",
    ),
    "security_compliance": (
        "I'll send the {cert} report and our security overview today.",
        "Our security lead can join a call with your team next week.",
        "Yes, we support SAML SSO and SCIM provisioning.",
        "I'll get the questionnaire to our trust team right away.",
    ),
    "integrations": (
        "Our solutions engineer can walk your admin through the {tech} setup.",
        "I'll check the limits with our platform team and come back to you.",
        "That's on the integrations team's list; I'll share a timeline.",
        "Let me send the API docs and an example of the field mapping.",
    ),
    "onboarding": (
        "We can schedule training sessions for each team.",
        "I'll loop in our implementation manager to adjust the plan.",
        "Let's set a go-live date and work backwards from it.",
        "We have a migration template that should save your team time.",
    ),
    "support": (
        "Sorry about that, I'll escalate it with our support lead now.",
        "Thanks for flagging it; I'll follow up with engineering today.",
        "I'll make sure you get a named contact for escalations.",
        "Let me check the ticket status and call you back this afternoon.",
    ),
    "competitors": (
        "Happy to do a side-by-side on the use cases that matter to you.",
        "That's fair. Where do you see the biggest difference today?",
        "We can share references from teams who moved over from {competitor}.",
    ),
    "roi_value": (
        "We can build the business case together with your numbers.",
        "I'll pull the usage data so we can show the impact.",
        "Great to hear. Would you be open to a case study?",
    ),
    "product_gaps": (
        "I'll pass that to our product manager; it comes up a lot.",
        "There's a workaround for now, and it's on the roadmap for next year.",
        "Can you tell me more about how you'd use it?",
    ),
}

REP_OPENERS: tuple[str, ...] = (
    "Thanks for making the time today.",
    "Good to see you again. How have the last few weeks been?",
    "Thanks for joining. I wanted to pick up where we left off.",
    "Hi everyone, thanks for coming. Shall we start with your priorities?",
    "Appreciate you hopping on. What's top of mind this week?",
)
CUSTOMER_OPENERS: tuple[str, ...] = (
    "Sure, happy to. A few things came up since we last spoke.",
    "Thanks. I'll keep it short, we have a hard stop.",
    "Good, busy quarter. I brought a couple of questions from the team.",
    "Yes, let's dive in.",
    "Thanks for setting this up.",
)
REP_CLOSERS: tuple[str, ...] = (
    "Great, I'll send a recap with next steps.",
    "Thanks, I'll follow up by Friday.",
    "Perfect. Let's reconvene in two weeks.",
    "I'll share the notes and the action items after this call.",
)
EMAIL_GREETINGS: tuple[str, ...] = ("Hi,", "Hello,", "Hi team,", "Good morning,", "Hey,")
EMAIL_SIGNOFFS: tuple[str, ...] = ("Thanks,", "Best regards,", "Cheers,", "Thanks in advance,", "Kind regards,")
TICKET_OPENERS: tuple[str, ...] = (
    "Reporting a problem.", "Urgent request.", "Question about our account.", "Issue since this morning.",
    "Follow-up on an earlier request.",
)
NOTE_OPENERS: tuple[str, ...] = (
    "Recap of today's sync.", "Notes from the check-in.", "Call notes.", "Quick summary after the meeting.",
    "Account notes for the team.",
)
SURVEY_OPENERS: tuple[str, ...] = (
    "NPS response: {n} out of 10.", "Survey answer, score {n}/10.", "Quarterly survey: rated us {n}.",
)

#: Title words per topic (conversation titles).
TOPIC_TITLES: dict[str, tuple[str, ...]] = {
    "pricing": ("pricing review", "renewal quote", "commercial terms", "budget discussion"),
    "security_compliance": ("security review", "questionnaire follow-up", "SSO and compliance"),
    "integrations": ("integration setup", "API questions", "data sync"),
    "onboarding": ("onboarding plan", "rollout check-in", "training schedule"),
    "support": ("support follow-up", "escalation", "issue report"),
    "competitors": ("evaluation", "competitive comparison", "vendor shortlist"),
    "roi_value": ("business review", "value check-in", "QBR"),
    "product_gaps": ("feature requests", "roadmap discussion", "product feedback"),
}

#: Planted pricing themes of the best customers: id, label, keywords (substrings, lowercase), phrasings.
PRICING_THEMES: tuple[dict[str, object], ...] = (
    {
        "id": "annual_prepay",
        "label": "Annual prepay discount",
        "keywords": ["prepay", "upfront"],
        "phrases": (
            "If we prepay the whole year, what kind of discount can you do?",
            "Finance wants an annual prepay discount before we sign the expansion.",
            "We'd rather pay upfront for the year if the price drops by {pct}%.",
            "Is there an annual prepay option? Our CFO prefers paying upfront at a lower price.",
            "An upfront annual payment works for us if there's a discount attached.",
            "We can prepay {n} years if the pricing reflects it.",
        ),
    },
    {
        "id": "occasional_seats",
        "label": "Per-seat pricing for occasional users",
        "keywords": ["occasional user", "light user", "part-time seat"],
        "phrases": (
            "We need per-seat pricing for occasional users; about {seats} people log in once a month.",
            "Can light users get a cheaper seat? Paying full price for occasional users is hard to justify.",
            "Our field team are occasional users, so a part-time seat price would let us roll out to everyone.",
            "Could you price occasional users differently from power users?",
            "Half of our {seats} seats are light users who only look at dashboards; the pricing should reflect that.",
            "A part-time seat tier at a lower price would get the whole company on the platform.",
        ),
    },
    {
        "id": "price_lock",
        "label": "Price lock at renewal",
        "keywords": ["price lock", "lock in", "price protection", "price cap"],
        "phrases": (
            "Before we expand we'd want a price lock at renewal for {n} years.",
            "Can we lock in today's price for the next renewal?",
            "We need price protection at renewal, with a cap of {pct}% at most.",
            "A multi-year price cap would make the expansion an easy yes for procurement.",
            "If you can lock in the per-seat price for two renewals, we'll add the other teams.",
            "Price protection matters more to us than the discount itself.",
        ),
    },
)

CERTS: tuple[str, ...] = ("SOC 2 Type II", "ISO 27001", "HIPAA", "GDPR", "PCI DSS")
VC_FIRMS: tuple[str, ...] = (
    "Sequoia", "Accel", "Index Ventures", "Balderton", "Insight Partners", "General Catalyst", "Lightspeed",
    "Bessemer", "Atomico", "Tiger Global", "a16z", "Kaszek",
)
EXEC_TITLES: tuple[str, ...] = ("CFO", "CRO", "VP Sales", "Head of RevOps", "COO", "CIO", "VP Finance")
