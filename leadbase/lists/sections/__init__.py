"""Field sections: the ordered groups a list's custom fields are shown in."""
