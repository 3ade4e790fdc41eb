"""Build the POST data an admin change page would send, from the page a client received."""


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def _form_fields(form, data):
    for bound_field in form:
        data[bound_field.html_name] = _value(bound_field)


def change_form_data(response, **changes):
    """The data of the admin form in ``response``, with ``changes`` applied."""
    data = {}
    _form_fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound_field in formset.management_form:
            data[bound_field.html_name] = _value(bound_field)
        data[formset.management_form.add_prefix("TOTAL_FORMS")] = str(formset.initial_form_count())
        for form in formset.initial_forms:
            _form_fields(form, data)
    for key, value in changes.items():
        data[key] = value
    return {key: value for key, value in data.items() if value is not None}
