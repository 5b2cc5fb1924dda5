"""Signals: the comparable fingerprints Bastion derives from content.

* :mod:`~bastion.signals.base` - the extension point (``SignalType`` and capability mixins);
* :mod:`~bastion.signals.exact` - MD5 and SHA-256;
* :mod:`~bastion.signals.pdq` - PDQ for photos (decoding in :mod:`~bastion.signals.photo`);
* :mod:`~bastion.signals.video` - vPDQ for videos (frames hashed by
  :mod:`~bastion.signals.pdq_numpy`, text format in :mod:`~bastion.signals.vpdq_format`);
* :mod:`~bastion.signals.registry` - every signal type by its stable name;
* :mod:`~bastion.signals.extract` - bytes or a file in, the signals of its kind out.

This package module imports nothing on purpose: ``bastion.content`` imports ``signals.base`` and
``signals.extract`` imports ``bastion.content``, so eager imports here would be circular.
"""
