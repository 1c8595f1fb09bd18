"""Request and response models of the resource routes, one module per resource.

``/api/v1`` models are snake_case; the ``compat`` module holds the camelCase
shapes of the seed-000 dashboard routes, seed 003 (VoiceCall) and seed 004
(add-phone).
"""
