"""The pure call-flow domain: what a call does, as data, with no I/O.

Verbs, forwarding-rule compilation, dial routes, voice documents (parse and
write), webhook signatures, voicemail settings and the AstDB plan live here.
Everything above (engine, services, API) imports this package; it imports
nothing of theirs.
"""
