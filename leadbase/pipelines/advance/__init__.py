"""Pipeline auto-advance: per stage, ordered rules (condition -> target stage of the same
pipeline), evaluated after the events that can change a lead and on demand
(``POST /leads/{id}/auto-advance``). See :mod:`.evaluate` for the loop guard."""
