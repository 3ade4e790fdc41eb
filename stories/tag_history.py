"""A story's tags in its revisions.

simple-history keeps a story's companies and themes with each revision (``m2m_fields``), but
tags are taggit's generic relation, which it cannot follow. Each revision of a story stores
its tag names instead, in a column of its own (``tag_names``):

- a revision records the tags the story has when it is written;
- tags set right after a save, on the same object (the admin's form saves the story, then
  its tags; an import and a restore do the same), belong to the revision that save wrote:
  a revision is the story as it stood after a save, tags included;
- a change of tags on its own (an object not saved in this process) writes a new revision,
  as simple-history does for a change of companies.

Revisions written in bulk (``bulk_update_with_history``) and those from before this column
existed have no tag names (``None``): unknown, not "no tags".
"""

from django.db import models
from django.db.models.signals import m2m_changed
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from taggit.models import TaggedItem


class RevisionTags(models.Model):
    """The column a tagged model's revisions add to simple-history's."""

    tag_names = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The tags in this revision, sorted; empty for revisions made before tags were kept.",
    )

    class Meta:
        abstract = True


def tag_names(obj):
    """Return the names of ``obj``'s tags as a revision keeps them: sorted, case aside."""
    return sorted(obj.tags.names(), key=str.casefold)


class TaggedHistoricalRecords(HistoricalRecords):
    """simple-history's records of a model with taggit tags, each revision with its tag names."""

    def __init__(self, *args, bases=(), **kwargs):
        super().__init__(*args, bases=[*bases, RevisionTags], **kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is not self.cls:
            return
        history_model = getattr(sender, self.manager_name).model
        pre_create_historical_record.connect(self._record_tags, sender=history_model, weak=False)
        post_create_historical_record.connect(self._remember_revision, sender=history_model, weak=False)
        m2m_changed.connect(self._tags_changed, sender=TaggedItem, weak=False)

    def _record_tags(self, instance, history_instance, **kwargs):
        # A row being created has no tags yet: no need to ask.
        history_instance.tag_names = [] if history_instance.history_type == "+" else tag_names(instance)

    def _remember_revision(self, instance, history_instance, **kwargs):
        instance._latest_revision = history_instance

    def _tags_changed(self, instance, action, pk_set, **kwargs):
        if not isinstance(instance, self.cls) or hasattr(instance, "skip_history_when_saving"):
            return
        # taggit announces an add of nothing on every ``set()``: only actual changes count.
        if action not in ("post_add", "post_remove", "post_clear") or (action != "post_clear" and not pk_set):
            return
        revision = getattr(instance, "_latest_revision", None)
        if revision is None:
            self.create_historical_record(instance, "~")
            return
        revision.tag_names = tag_names(instance)
        type(revision).objects.filter(pk=revision.pk).update(tag_names=revision.tag_names)
