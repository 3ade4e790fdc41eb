from django.db.models import F, Func, IntegerField, Subquery


def row_count(rows):
    """Count ``rows`` (filtered on an ``OuterRef``) for each object of an admin changelist.

    A ``Count()`` annotation joins and groups the whole related table before the first
    page can be shown (a quarter of a second for 15,000 companies); this subquery is
    evaluated only for the rows up to the end of the page shown (all of them when the
    list is sorted by it), so the first pages, the ones editors use, are quick.
    """
    counted = rows.order_by().annotate(row_count=Func(F("pk"), function="COUNT")).values("row_count")
    return Subquery(counted, output_field=IntegerField())
