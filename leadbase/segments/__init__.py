"""Segments: named saved rules over leads, or fixed member lists (``/api/v1/segments``)."""
