"""List files and posts shared by the finance tests."""

from __future__ import annotations

# BIP-173's P2WPKH example: a real-format mainnet address.
WALLET = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
# The same, as a poster hides it from filters: Cyrillic "с" and "а", a zero-width space.
DISGUISED = "b\u04411qw508d6qejxtdg4y5r3z\u0430rv\u0430ry0c5\u200bxw7kv8f3t4"
ENTITY_UID = "48213"

SDN_XML = f"""<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="http://tempuri.org/sdnList.xsd">
 <publshInformation><Publish_Date>11/20/2026</Publish_Date><Record_Count>2</Record_Count>
 </publshInformation>
 <sdnEntry><uid>{ENTITY_UID}</uid><lastName>AL-NASR FUNDRAISING NETWORK</lastName>
  <sdnType>Entity</sdnType>
  <programList><program>SDGT</program></programList>
  <idList>
   <id><uid>1</uid><idType>Digital Currency Address - XBT </idType>
    <idNumber>{WALLET}</idNumber></id>
  </idList>
  <akaList><aka><uid>2</uid><type>a.k.a.</type><category>strong</category>
   <lastName>شبكة النصر</lastName></aka></akaList>
 </sdnEntry>
 <sdnEntry><uid>48214</uid><firstName>Yusuf</firstName><lastName>HADDAD</lastName>
  <sdnType>Individual</sdnType><programList><program>SDGT</program></programList>
 </sdnEntry>
</sdnList>
"""
