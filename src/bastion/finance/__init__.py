"""Terrorist financing: payment instruments found in content, screened against sanctions lists.

The stage reads as its own small pipeline:

* ``fold`` look-alike characters (Cyrillic, Greek, full-width) back to the Latin letters and
  digits payment identifiers are written in, keeping offsets into the original text;
* ``extract``: crypto addresses and payment URIs, Lightning invoices, IBANs and BICs, payment and
  crowdfunding links, mobile-money phone numbers, each validated by its checksum
  (:mod:`bastion.finance.findings` is the record every extractor returns);
* ``appeals``: donation-appeal wording that, beside an instrument, raises a case's priority;
* ``lists``: streamed importers for the official sanctions lists (OFAC, UN, UK, EU);
* ``names``: multi-script name matching with transliteration and an explanation per score;
* ``screening``: instruments and names against the imported lists, hits kept as evidence;
* ``reports``: the evidence summary handed to a financial intelligence unit.
"""
