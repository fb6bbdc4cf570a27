"""Figures of speech and everyday clippings a leader asks in ("Why do partnerships run out of steam?", "turf
wars", "a seat at the table", "our chief exec"), and the plain words research writes for them.

Read literally, a figure's words ("steam", "turf", "hymn sheet") are words no passage uses, so a question
asking what the evidence does cover would look as if it asked about something it lacks, and its words would
match nothing. The question is read in plain words ("Why do partnerships fail to last?") for its
meaning, words and scope; it is still shown as asked. Only figures whose literal words the research does not
use itself are listed ("top-down" is its own word), and a figure whose every word the index uses is read as
written: a clinical index may mean "growing pains" literally.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

#: Each figure of speech, as a pattern of its usual forms, and the plain words it means, a template of the
#: pattern's groups: "juggl(e|es|ing|ed)" is "balanc\1", so "juggling" is "balancing".
FIGURES: dict[str, str] = {
    r"(?:run out of|lose) steam": "fail to last",
    r"(?:runs out of|loses) steam": "fails to last",
    r"(?:ran out of|lost) steam": "failed to last",
    r"(?:running out of|losing) steam": "failing to last",
    r"bear fruit": "produce results",
    r"bears fruit": "produces results",
    r"(?:bore|borne) fruit": "produced results",
    r"bearing fruit": "producing results",
    r"turf war(s?)|territorial (?:battle|dispute)(s?)": r"conflict\1\2 over boundaries",
    r"(?:a )?waste of money": "not worth it",
    r"sceptical|skeptical": "reluctant",
    r"waste of (?:space|time|effort)": "loss without benefit",
    r"(?:just |only |merely |simply )?a (?:slogan|buzzword)": "a claim without evidence",
    r"buy-?in": "commitment",
    r"buy in ?to": "commit to",
    r"buys into": "commits to",
    r"buying into": "committing to",
    r"bought into": "committed to",
    r"(get|gets|getting|got|bring|brings|bringing|brought|keep|keeps|keeping|kept)((?: [\w'-]+){1,3}) on board": (
        r"\1\2 committed"
    ),
    r"(?:singing|sing|sings) from the same hymn ?sheet|on the same page|(?:pulling|pull|pulls) in the same"
    r" direction": "sharing the same goals",
    r"herding cats": "coordinating many independent people",
    r"mov(e|es|ing|ed) the (?:needle|dial)": r"improv\1 outcomes",
    r"(?:silver|magic) bullet(s?)|panacea(s?)": r"single solution\1\2",
    r"one[- ]size[- ]fits[- ]all": "uniform",
    r"low[- ]hanging fruit": "simple early gains",
    r"quick win(s?)": r"fast gain\1",
    r"reinvent(s|ing|ed)? the wheel": r"repeat\1 work already done",
    r"lip[- ]service": "formal support without real commitment",
    r"tick[- ]box(?:ing)?(?: exercises?)?|box[- ]ticking(?: exercises?)?": "formality without real change",
    r"rubber[- ]stamp(s|ing|ed)?": r"sign\1 off without challenge",
    r"talking shop(s?)": r"meeting\1 without action",
    r"in the driv(?:ing|er'?s) seat": "in control",
    r"call(s|ing|ed)? the shots": r"decide\1",
    r"pull(s|ing|ed)? the strings": r"control\1",
    r"(take|takes|taking|took) a back seat": r"\1 a lesser role",
    r"the buck stops": "accountability rests",
    r"pass(es|ing|ed)? the buck": r"pass\1 on responsibility",
    r"seat at the table": "part in decisions",
    r"round the table|around the table": "together",
    r"mak(e|es|ing) (?:that|the|this) (?:jump|leap)": r"mak\1 that change",
    r"non-exec(s?)": r"non-executive\1",
    r"exec(s?)": r"executive\1",
    r"govt": "government",
    r"pls|plz": "please",
    r"(?<!carbon )(?<!environmental )footprint(s?)": r"area\1",
    r"nz": "New Zealand",
    r"silo working|working in silos": "working separately",
    r"siloed": "separated",
    r"silo(s?)": r"barrier\1",
    r"step(s|ping|ped)? on (?:each other'?s |their |our |other people'?s )?toes": r"step\1 into the roles of others",
    r"too many cooks": "too many people involved",
    r"elephant in the room": "hidden problem",
    r"level playing field": "balance of power",
    r"big picture": "whole system",
    r"think(?:ing)? outside the box": "innovate",
    r"hit(s|ting)? the ground running": r"get\1 going",
    r"(get|gets|getting|got) off the ground": r"\1 started",
    r"(go|goes|going|went) the extra mile": r"\1 beyond what is required",
    r"fall (?:through the (?:cracks|gaps|net)|between two stools)": "miss out on services",
    r"falls (?:through the (?:cracks|gaps|net)|between two stools)": "misses out on services",
    r"falling (?:through the (?:cracks|gaps|net)|between two stools)": "missing out on services",
    r"fell (?:through the (?:cracks|gaps|net)|between two stools)": "missed out on services",
    r"postcode lottery": "inequality of services between areas",
    r"rob(?:bing)? peter to pay paul": "move finance between organisations",
    r"firefight(?:ing)?|fire[- ]fight(?:ing)?": "dealing with immediate pressures",
    r"mak(e|es|ing) or break(?:s|ing)?": r"decid\1 the success of",
    r"punch(es|ing)? above (?:its|their|our|your) weight": r"do\1 better than expected",
    r"sea change|step change|game[- ]changer": "major change",
    r"(drop|drops|dropping|dropped) the ball": r"\1 their responsibilities",
    r"mov(e|es|ing|ed) the goal ?posts": r"chang\1 the targets",
    r"kick(s|ing|ed)? the can down the road": r"delay\1 decisions",
    r"perfect storm": "combination of problems",
    r"red tape": "administrative rules",
    r"pecking order": "power differences",
    r"lion'?s share": "largest part",
    r"teething (?:problems|troubles|issues)": "early problems",
    r"empire[- ]building": "protecting organisational interests",
    r"hearts and minds": "support",
    r"carrots? and sticks?": "incentives and sanctions",
    r"pet project(s?)": r"personal priorit\1",
    r"pull(?:s|ing|ed)? the plug(?: on)?": "stop",
    r"flash in the pan": "success that did not last",
    r"stick(?:s|ing)? it out|stuck it out": "keep going",
    r"glue (?:that|which) holds": "force that holds",
    r"spinning (?:too many )?plates": "balancing",
    r"juggl(e|es|ing|ed)": r"balanc\1",
    r"(?:at )?loggerheads": "in conflict",
    r"butt(s|ing|ed)? heads": r"conflict\1",
    r"(put|puts|putting|place|placing|set|sets|setting) (much |any |some |more |little |great |a lot of )?stock in": (
        r"\1 \2trust in"
    ),
    r"stock (can|could|should|do|does) (we|I|you|they|one) (put|place|set) in": r"trust \1 \2 \3 in",
    r"horses for courses": "a matter of context",
    r"when the chips are down|when push comes to shove": "under pressure",
    r"walk(?:s|ing)? a mile in (?:each other'?s|their|someone else'?s|other people'?s|our|my) shoes"
    r"|(?:put|putting) (?:themselves|ourselves|yourself) in (?:each other'?s|their|someone else'?s) shoes": (
        "understand each other's work"
    ),
    r"(?:threw|throw|throws|throwing) a spanner in(?:to)? the works": "hindered",
    r"(?:find|finds|finding|found) (?:[\w'-]+ )?feet": "settle in",
    r"sink or swim": "succeed or fail",
    r"(?:any )?meat on the bones?": "substance",
    r"proof of the pudding(?: is in the eating)?": "test of results",
    r"(?:legal|statutory) teeth": "legal powers",
    r"built on sand": "poorly founded",
    r"going great guns": "doing well",
    r"read(?:ing)? too much into": "overinterpret",
    r"deliver(?:s|ed|ing)? the goods": "achieve results",
    r"mark(?:s|ed|ing)? (?:their|our|its|your|his|her) own homework": "assess themselves",
    r"purse[- ]strings": "control of money",
    r"splash(?:es|ed|ing)? out": "spend heavily",
    r"writ large": "on a larger scale",
    r"bark(?:s|ed|ing)? up the wrong tree": "mistaken",
    r"from on high": "from the centre",
    r"mak(e|es|ing) it up as (?:they|we|you|I|he|she) go(?:es)? along": r"improvis\1",
    r"up (?:their|our|your|its|his|her) sleeves?": "available",
    r"kettle of fish": "matter",
    r"cogs? in (?:the|a) (?:machine|wheel)": "parts of the system",
    r"ivory towers?": "detached from practice",
    r"(kept|keep|keeps|keeping)( \w+)? in the loop": r"\1\2 informed",
    r"out of the loop": "uninformed",
    r"missing piece of the (?:jigsaw|puzzle)": "missing part",
    r"bang for (?:the|our|your|their) buck": "value for money",
    r"pie in the sky": "unrealistic",
    r"ahead of the (?:curve|game)": "ahead of others",
    r"smoke and mirrors": "deception",
    r"free[- ]for[- ]all": "unregulated",
    r"thr(?:ow|ows|ew|owing|own) in the towel": "give up",
    r"jewel in the crown": "best example",
    r"cracked it": "solved it",
    r"free hand": "full freedom",
    r"nuts and bolts": "practical details",
    r"recipe for disaster": "likely failure",
    r"wishful thinking": "unrealistic hope",
    r"go(?:es|ne)? bust|went bust": "fail financially",
    r"keep(?:s|ing)? the show on the road": "keep services running",
    r"going rate": "usual price",
    r"over the odds": "too much",
    r"paper tiger(s?)": r"powerless body\1",
    r"damp squib": "disappointment",
    r"cut(?:s|ting)? (?:\w+ )?(?:some |a bit of )?slack": "give leeway",
    r"holy grail": "ultimate goal",
    r"in the same boat": "in the same position",
    r"on the back foot": "at a disadvantage",
    r"tall order": "difficult task",
    r"tip of the iceberg": "small visible part",
    r"behind closed doors": "in private",
    r"double[- ]edged sword": "mixed blessing",
    r"by the book": "following the rules",
    r"cut(?:s|ting)? corners": "skip steps",
    r"bit(?:e|es|ing) the bullet": "accept a hard decision",
    r"back to square one": "back to the start",
    r"get(?:s|ting)? the ball rolling|got the ball rolling": "get started",
    r"devil is in the detail": "details matter",
    r"thr(?:ow|ows|ew|owing|own) money at": "spend more on",
    r"drop in the ocean": "negligible amount",
    r"tough nut to crack": "hard problem",
    r"writing (?:is )?on the wall": "warning signs",
    r"walk(?:s|ing)? the (?:talk|walk)|practis(?:e|es|ing) what (?:they|we|you) preach": "act on what they say",
    r"out of (?:their|our|my|his|her|your) depth": "lacking the skills",
    r"(?:thrown|thrown in|dropped) (?:in )?at the deep end": "given no preparation",
    r"joined at the hip": "closely tied",
    r"pull(?:s|ing|ed)? rank": "use their status",
    r"sharp end": "front line",
    r"(?:on|by|come) (?:a )?Monday morning": "in daily practice",
    r"make (it|them|this|that|(?:the )?changes?) stick": r"sustain \1",
    r"makes (it|them|this|that|(?:the )?changes?) stick": r"sustains \1",
    r"making (it|them|this|that|(?:the )?changes?) stick": r"sustaining \1",
    r"made (it|them|this|that|(?:the )?changes?) stick": r"sustained \1",
    r"(get|gets|getting|got) (it|them|this|that|(?:the )?changes?) embedded": r"\1 \2 sustained",
    r"embed (it|them|this|that|(?:the )?changes?)\b": r"sustain \1",
    r"embeds (it|them|this|that|(?:the )?changes?)\b": r"sustains \1",
    r"embedding (it|them|this|that|(?:the )?changes?)\b": r"sustaining \1",
    r"(?:the )?(?:person|people|man|woman|one|ones) at the top": "senior management",
    r"(?:just |only |merely )?an? (?:badge|rosette) on the board|window[- ]dressing|(?:a )?fig[- ]leaf": (
        "a formal role only"
    ),
    r"(leadership|training|development|management) course(s?)\b": r"\1 programme\2",
    r"(be|is|are|being) pitched at": r"\1 targeted at",
    r"pitch (it|them|this|that)": r"target \1",
    r"pitched (it|them|this|that)": r"targeted \1",
    r"pitching (it|them|this|that)": r"targeting \1",
    r"(how|How) solid": r"\1 strong",
    r"(?:doctor|medic)(s?)": r"physician\1",
    r"(our|your|their|my|this|the local) patch(es)?": r"\1 area\2",
    r"(?:just )?tick(?:ing)? (?:a|the) box(?:es)?|box-ticking|a tick-box exercise": "a formality",
    r"defend(s|ing|ed)? (?:their|our|your|his|her|my) (?:own )?(?:corner|patch|turf)": r"protect\1 their interests",
    r"(what|how|why|who) on earth": r"\1",
    r"(w)hich (?:one )?(?:do|should) (?:i|we) believe": r"\1hich is better supported by the evidence",
    r"(?:rock[- ])?solid (evidence|research|findings|basis|grounds)": r"strong \1",
    r"(?:underneath|underpinning|beneath) (it|them|this|that|these|those)": r"behind \1",
}


@functools.lru_cache(maxsize=1)
def _figures() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(rf"(?<![\w'-])(?:{pattern})(?![\w'-])", re.I), plain) for pattern, plain in FIGURES.items()]


def in_plain_words(text: str, own_words: Callable[[str], bool] = lambda figure: False) -> str:
    """The text with each figure of speech of :data:`FIGURES` replaced by its plain words, but those that are
    ``own_words`` of the index: a figure whose every word an index uses ("buy-in", "growing pains") may be
    what its publications write, and is matched as written."""

    def reading(found: re.Match[str], plain: str) -> str:
        return found.group(0) if own_words(found.group(0)) else found.expand(plain)

    for pattern, plain in _figures():
        text = pattern.sub(functools.partial(reading, plain=plain), text)
    return text
