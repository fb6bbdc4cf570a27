"""Figures of speech a leader asks in ("Why do partnerships run out of steam?", "turf wars", "a seat at the
table"), and the plain words research writes for them.

Read literally, a figure's words ("steam", "turf", "hymn sheet") are words no passage uses, so a question
asking what the evidence does cover would look as if it asked about something it lacks, and its words would
match nothing. The question is read in plain words ("Why do partnerships fail to be sustained?") for its
meaning, words and scope; it is still shown as asked. Only figures whose literal words the research does not
use itself are listed: "top-down" is its own word.
"""

from __future__ import annotations

import functools
import re

#: Each figure of speech, as a pattern of its usual forms, and the plain words it means, a template of the
#: pattern's groups: "juggl(e|es|ing|ed)" is "balanc\1", so "juggling" is "balancing".
FIGURES: dict[str, str] = {
    r"run(?:s|ning)? out of steam|ran out of steam|los(?:e|es|t|ing) steam": "fail to be sustained",
    r"(?:bear|bears|bore|borne|bearing) fruit": "produce results",
    r"turf wars?|territorial (?:battles?|disputes?)": "conflicts over boundaries",
    r"(?:a )?waste of (?:space|time|effort)": "of no benefit",
    r"(?:just |only |merely |simply )?(?:a )?slogans?|(?:a )?buzzwords?": "a claim without evidence",
    r"buy-?in": "commitment",
    r"(get|gets|getting|got|bring|brings|bringing|brought|keep|keeps|keeping|kept)((?: [\w'-]+){1,3}) on board": (
        r"\1\2 committed"
    ),
    r"(?:singing|sing|sings) from the same hymn ?sheet|on the same page|(?:pulling|pull|pulls) in the same"
    r" direction": "sharing the same goals",
    r"herding cats": "coordinating many independent people",
    r"(?:move|moves|moving|moved) the (?:needle|dial)": "make a difference",
    r"(?:an? |the )?(?:silver|magic) bullets?|(?:an? |the )?panaceas?": "a single solution",
    r"one[- ]size[- ]fits[- ]all": "a uniform approach",
    r"low[- ]hanging fruit": "simple early gains",
    r"quick wins?": "early gains",
    r"reinvent(?:s|ing|ed)? the wheel": "repeat work already done",
    r"lip[- ]service": "formal support without real commitment",
    r"tick[- ]box(?:ing)?(?: exercises?)?|box[- ]ticking(?: exercises?)?": "formality without real change",
    r"rubber[- ]stamp(?:s|ing|ed)?": "approve without challenge",
    r"talking shops?": "meetings without action",
    r"in the driv(?:ing|er'?s) seat|calling the shots|call(?:s)? the shots|pulling the strings": "in control",
    r"(?:tak(?:e|es|ing)|took) a back seat": "step back from leading",
    r"the buck stops": "accountability rests",
    r"pass(?:es|ing|ed)? the buck": "leave responsibility to others",
    r"(?:a )?seat at the table": "a part in decisions",
    r"round the table|around the table": "together",
    r"step(?:s|ping|ped)? on (?:each other'?s |their |our |other people'?s )?toes": "cross into the roles of others",
    r"too many cooks": "too many people involved",
    r"(?:the )?elephant in the room": "the hidden problem",
    r"(?:a )?level playing field": "a balance of power",
    r"(?:the )?big picture": "the whole system",
    r"think(?:ing)? outside the box": "innovate",
    r"hit(?:s|ting)? the ground running": "start quickly",
    r"get(?:s|ting)? off the ground|got off the ground": "get started",
    r"go(?:es|ing)? the extra mile|went the extra mile": "make more effort",
    r"fall(?:s|ing)? through the (?:cracks|gaps|net)|fell through the (?:cracks|gaps|net)": "be missed by services",
    r"fall(?:s|ing)? between two stools|fell between two stools": "be missed between services",
    r"(?:a )?postcode lottery": "unequal services between areas",
    r"rob(?:bing)? peter to pay paul": "move finance between organisations",
    r"firefight(?:ing)?|fire[- ]fight(?:ing)?": "dealing with immediate pressures",
    r"mak(e|es|ing) or break(?:s|ing)?": r"decid\1 the success of",
    r"punch(?:es|ing)? above (?:its|their|our|your) weight": "achieve more than expected",
    r"(?:a )?sea change|(?:a )?step change|(?:a )?game[- ]changer": "a major change",
    r"(?:drop|drops|dropping|dropped) the ball": "fail",
    r"mov(?:e|es|ing|ed) the goal ?posts": "change the targets",
    r"kick(?:s|ing|ed)? the can down the road": "put off decisions",
    r"heavy lifting": "most of the work",
    r"(?:a )?perfect storm": "many problems together",
    r"red tape": "administrative rules",
    r"pecking order": "power differences",
    r"(?:the )?lion'?s share": "most",
    r"teething (?:problems|troubles|issues)|growing pains": "early problems",
    r"empire[- ]building": "protecting organisational interests",
    r"hearts and minds": "support",
    r"carrots? and sticks?": "incentives and sanctions",
    r"pet projects?": "personal priorities",
    r"pull(?:s|ing|ed)? the plug(?: on)?": "stop",
    r"(?:a )?flash in the pan": "a success that did not last",
    r"stick(?:s|ing)? it out|stuck it out": "keep going",
    r"(?:the )?glue (?:that|which) holds": "what holds",
    r"spinning (?:too many )?plates": "balancing",
    r"juggl(e|es|ing|ed)": r"balanc\1",
    r"(?:at )?loggerheads": "in conflict",
    r"butt(?:ing)? heads": "in conflict",
    r"trench(?:es)?|(?:the )?coal ?face|(?:the )?shop floor": "the front line",
    r"(?:put|puts|putting|place|placing|set|sets|setting) (?:much |any |some |more |little |great |a lot of )?stock in"
    r"|stock (?:can|could|should|do|does) (?:we|I|you|they|one) (?:put|place|set) in": "confidence in",
    r"horses for courses": "a matter of context",
    r"when the chips are down|when push comes to shove": "under pressure",
    r"walk(?:s|ing)? a mile in (?:each other'?s|their|someone else'?s|other people'?s|our|my) shoes"
    r"|(?:put|putting) (?:themselves|ourselves|yourself) in (?:each other'?s|their|someone else'?s) shoes": (
        "understand each other's work"
    ),
    r"(?:threw|throw|throws|throwing) a spanner in(?:to)? the works|(?:a )?spanner in(?:to)? the works": "hindered",
    r"(?:find|finds|finding|found) (?:[\w'-]+ )?feet": "settle in",
    r"sink or swim": "succeed or fail",
    r"(?:any )?meat on the bones?": "substance",
    r"(?:the )?proof of the pudding(?: is in the eating)?": "the test is the results",
    r"(?:legal|statutory|real|any|no) teeth": "legal powers",
    r"built on sand": "poorly founded",
    r"going great guns": "doing well",
    r"read(?:ing)? too much into": "overinterpret",
    r"deliver(?:s|ed|ing)? the goods": "achieve results",
    r"mark(?:s|ed|ing)? (?:their|our|its|your|his|her) own homework": "assess themselves",
    r"(?:the )?purse[- ]strings": "control of money",
    r"splash(?:es|ed|ing)? out": "spend heavily",
    r"writ large": "on a larger scale",
    r"bark(?:s|ed|ing)? up the wrong tree": "mistaken",
    r"from on high": "from the centre",
    r"mak(e|es|ing) it up as (?:they|we|you|I|he|she) go(?:es)? along": r"improvis\1",
    r"up (?:their|our|your|its|his|her) sleeves?": "available",
    r"up in the air": "uncertain",
    r"(?:a )?different kettle of fish": "a different matter",
    r"cogs? in (?:the|a) (?:machine|wheel)": "parts of the system",
    r"ivory towers?": "detached from practice",
    r"(?:kept|keep|keeps|keeping) (?:\w+ )?in the loop": "kept informed",
    r"out of the loop": "uninformed",
    r"(?:the )?missing piece(?: of the (?:jigsaw|puzzle))?": "the missing part",
    r"bang for (?:the|our|your|their) buck": "value for money",
    r"pie in the sky": "unrealistic",
    r"ahead of the (?:curve|game)": "ahead of others",
    r"smoke and mirrors": "deception",
    r"(?:a )?free[- ]for[- ]all": "unregulated",
    r"thr(?:ow|ows|ew|owing|own) in the towel": "give up",
    r"(?:the )?jewel in the crown": "the best example",
    r"cracked it": "solved it",
    r"(?:a )?free hand": "full freedom",
    r"(?:the )?nuts and bolts": "the practical details",
    r"(?:a )?recipe for disaster": "likely to fail",
    r"wishful thinking": "unrealistic hope",
    r"go(?:es|ne)? bust|went bust": "fail financially",
    r"keep(?:s|ing)? the show on the road": "keep services running",
    r"(?:the )?going rate": "the usual price",
    r"over the odds": "too much",
    r"(?:a )?paper tigers?": "powerless",
    r"(?:a )?damp squib": "a disappointment",
    r"cut(?:s|ting)? (?:\w+ )?(?:some |a bit of )?slack": "give leeway",
    r"(?:the )?holy grail": "the ultimate goal",
    r"in the same boat": "in the same position",
    r"on the back foot": "at a disadvantage",
    r"(?:a )?tall order": "difficult",
    r"(?:the )?tip of the iceberg": "a small part",
    r"behind closed doors": "in private",
    r"(?:a )?double[- ]edged sword": "both helpful and harmful",
    r"by the book": "following the rules",
    r"cut(?:s|ting)? corners": "skip steps",
    r"bit(?:e|es|ing) the bullet": "accept a hard decision",
    r"back to square one": "back to the start",
    r"get(?:s|ting)? the ball rolling|got the ball rolling": "get started",
    r"(?:the )?devil is in the detail": "the details matter",
    r"thr(?:ow|ows|ew|owing|own) money at": "spend more on",
    r"(?:a )?drop in the ocean": "too small to matter",
    r"(?:a )?tough nut to crack": "a hard problem",
    r"(?:the )?writing (?:is )?on the wall": "the warning signs",
    r"walk(?:s|ing)? the (?:talk|walk)|practis(?:e|es|ing) what (?:they|we|you) preach": "act on what they say",
    r"out of (?:their|our|my|his|her|your) depth": "lacking the skills",
    r"(?:thrown|thrown in|dropped) (?:in )?at the deep end": "given no preparation",
    r"joined at the hip": "closely tied",
    r"pull(?:s|ing|ed)? rank": "use their status",
    r"(?:the )?sharp end": "the front line",
}


@functools.lru_cache(maxsize=1)
def _figures() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(rf"(?<![\w'-])(?:{pattern})(?![\w'-])", re.I), plain) for pattern, plain in FIGURES.items()]


def in_plain_words(text: str) -> str:
    """The text with each figure of speech of :data:`FIGURES` replaced by its plain words."""
    for pattern, plain in _figures():
        text = pattern.sub(plain, text)
    return text
