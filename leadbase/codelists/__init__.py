"""Code lists ("nomenclators"): named sets of codes that SELECTOR and CHECKBOX fields use."""
