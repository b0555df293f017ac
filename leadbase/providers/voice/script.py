"""Generated conversations for the simulator: a transcript and a summary per outcome.

Deterministic: the variant number picks the openings, the callee's answers and the
closing, so one simulated call always has the same transcript.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

_OPENINGS = (
    "Hi {lead}, this is {agent} calling from {company}. Do you have a minute?",
    "Hello, am I speaking with {lead}? It's {agent} from {company}.",
    "Good day {lead}, {agent} here from {company}, following up on your enquiry.",
)
_GREETINGS = (
    "Yes, speaking.", "Hi, sure, go ahead.", "Hello. Yes, this is me.", "Yeah, I have a minute.",
)
_INTERESTED = (
    (
        "You asked about our offer last week. What made you reach out?",
        "We're looking at options for next quarter and your pricing came up.",
        "That's great. Would a short demo with a specialist help?",
        "Yes, that would help. Thursday afternoon works for me.",
        "Perfect, I'll book Thursday at three and send the invite by email.",
        "Great, thanks.",
    ),
    (
        "I'm calling about the request you left on our website. Is it still current?",
        "It is. We need something in place within a month or two.",
        "Understood. Could you tell me roughly how many people would use it?",
        "About twenty to start with, maybe more later.",
        "Thanks. I'll have a colleague send a proposal for twenty seats today.",
        "Sounds good. Send it to the address on the form.",
    ),
    (
        "You downloaded our guide recently. Did you find what you were looking for?",
        "Partly. I still have questions about the contract terms.",
        "Happy to help. Monthly or yearly terms are both possible. Which suits you?",
        "Monthly to begin with, then we'll see.",
        "Noted. I'll email the monthly terms and call you back on Monday.",
        "Okay, talk then.",
    ),
)
_NOT_INTERESTED = (
    (
        "I'm following up on your enquiry. Are you still looking for a solution?",
        "Not really, we went with another provider.",
        "I understand. Would you like us to check back in six months?",
        "No thanks, please take me off the list.",
        "Of course, I'll note that. Sorry for the trouble, have a good day.",
    ),
    (
        "Would you have a few minutes to talk about what you need?",
        "Honestly, it's not a priority for us this year.",
        "No problem at all. Thanks for your time.",
    ),
)
_HANG_UPS = ("Who is this?", "Sorry, not now.", "I'm driving, I can't talk.")
_VOICEMAILS = (
    "Hi {lead}, this is {agent} from {company}. I'm calling about your recent enquiry. "
    "Please call us back when it suits you. Thanks, and have a great day.",
    "Hello {lead}, {agent} from {company} here. I wanted to follow up on your request; "
    "I'll try again later, or you can reply to our email. Bye for now.",
)
_SUMMARIES = {
    "completed": (
        "{lead} answered and is interested. {detail}",
    ),
    "not_interested": ("{lead} answered but is not interested. {detail}",),
    "hung_up": ("{lead} answered and hung up within seconds; no conversation took place.",),
    "voicemail": (
        "The call reached {lead}'s voicemail; {agent} left a message asking for a call back.",
    ),
}
_DETAILS = (
    "A demo was agreed for Thursday afternoon; an invitation follows by email.",
    "They need about twenty seats within two months; a proposal will be sent today.",
    "They asked for monthly terms by email; a follow-up call is planned for Monday.",
)
_NOT_DETAILS = (
    "They chose another provider and asked not to be contacted again.",
    "It is not a priority this year.",
)


def conversation(
    outcome: str,
    variant: int,
    *,
    lead_name: str | None,
    agent_name: str,
    variables: Mapping[str, str],
) -> tuple[str | None, str | None]:
    """``(transcript, summary)`` of an answered call; ``(None, None)`` for the others."""
    rng = random.Random(variant)
    lead = (lead_name or "").strip() or "there"
    first = lead.split()[0] if lead != "there" else lead
    fill = {"lead": first, "agent": agent_name, "company": variables.get("company", "our team")}
    lines: list[tuple[str, str]] = []
    detail = ""
    if outcome == "voicemail":
        lines.append(("Agent", rng.choice(_VOICEMAILS).format(**fill)))
    else:
        lines.append(("Agent", rng.choice(_OPENINGS).format(**fill)))
        if outcome == "hung_up":
            lines.append(("Lead", rng.choice(_HANG_UPS)))
        elif outcome == "not_interested":
            lines.append(("Lead", rng.choice(_GREETINGS)))
            pick = rng.randrange(len(_NOT_INTERESTED))
            lines += _alternate(_NOT_INTERESTED[pick])
            detail = _NOT_DETAILS[pick]
        elif outcome == "completed":
            lines.append(("Lead", rng.choice(_GREETINGS)))
            pick = rng.randrange(len(_INTERESTED))
            lines += _alternate(_INTERESTED[pick])
            detail = _DETAILS[pick]
        else:
            return None, None
    transcript = "\n".join(f"{who}: {text}" for who, text in lines)
    name = lead if lead != "there" else "The lead"
    summary = _SUMMARIES[outcome][0].format(lead=name, agent=agent_name, detail=detail).strip()
    return transcript, summary


def _alternate(turns: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("Agent" if i % 2 == 0 else "Lead", text) for i, text in enumerate(turns)]
