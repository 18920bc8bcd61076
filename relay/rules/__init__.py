"""The messaging rules of DESIGN section 5, one rule per module.

Each text rule finds spans in a normalized view of the text (`view`); the stages in
relay.stages decide what to do with what they find.
"""
