#!/usr/bin/env python3
"""Writes the vendor-style PSKC corpus of this folder and its manifest (corpus.txt).

The files follow the published layouts (RFC 6030, draft-ietf-keyprov-pskc-02, the
algorithm-profiles draft, draft-hoyer-keyprov-portable-symmetric-key-container-00/-01) and
the shapes vendors ship (Feitian, ActivIdentity, multiOTP, Yubico, privacyIDEA). Every code in
the manifest comes from oathtool, not from Sekisho. Needs python3-cryptography and oathtool;
run it from this folder. IVs are fixed so that the output is the same on every run.
"""
import base64, hashlib, hmac, subprocess
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import keywrap
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    TripleDES = algorithms.TripleDES

RFC = b"12345678901234567890"
RFC32 = b"12345678901234567890123456789012"
PSK = bytes.fromhex("12345678901234567890123456789012")
PSK24 = bytes.fromhex("0123456789abcdeffedcba987654321000112233445566ff")
PSK32 = bytes.fromhex("a1" * 32)
B = lambda b: base64.b64encode(b).decode()
manifest = []


def oath(kind, secret, digits, at, algo="SHA1", period=30):
    if kind == "hotp":
        args = ["oathtool", "--hotp", "-d", str(digits), "-c", str(at), secret.hex()]
    else:
        args = ["oathtool", "--totp=" + algo.lower().replace("sha", "sha"), "-d", str(digits),
                "-s", f"{period}s", "-N", f"@{at}", secret.hex()]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def token(file, key, tid, kind, secret, digits=6, algo="SHA1", period=30, counter=0, drift=0,
          extra=""):
    if kind == "hotp":
        codes = [f"{c}:{oath(kind, secret, digits, c)}" for c in (counter, counter + 1)]
    else:
        at = [59, 1111111109]
        codes = [f"{t}:{oath(kind, secret, digits, t, algo, period)}" for t in at]
    manifest.append(" | ".join([file, key, tid, kind, algo, str(digits), str(period),
                                str(counter), str(drift), secret.hex(), " ".join(codes), extra]))


def cbc(alg, key, iv, data):
    bs = len(iv)
    pad = bs - len(data) % bs
    data = data + bytes([pad]) * pad
    e = Cipher(alg(key), modes.CBC(iv)).encryptor()
    return iv + e.update(data) + e.finalize()


def tdes_kw(key, cek, iv=b"\x05" * 8):
    cks = hashlib.sha1(cek).digest()[:8]
    e = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    temp1 = e.update(cek + cks) + e.finalize()
    temp3 = (iv + temp1)[::-1]
    e = Cipher(TripleDES(key), modes.CBC(bytes.fromhex("4adda22c79e82105"))).encryptor()
    return e.update(temp3) + e.finalize()


def mac(alg, key, data):
    return B(hmac.new(key, data, alg).digest())


def write(name, text):
    with open(name, "w") as f:
        f.write(text)


def ev(uri, ct, mac_value, prefix="pskc:", mac_name="ValueMAC"):
    return (f"<{prefix}EncryptedValue><xenc:EncryptionMethod Algorithm=\"{uri}\"/>"
            f"<xenc:CipherData><xenc:CipherValue>{B(ct)}</xenc:CipherValue></xenc:CipherData>"
            f"</{prefix}EncryptedValue><{prefix}{mac_name}>{mac_value}</{prefix}{mac_name}>")


XENC = "http://www.w3.org/2001/04/xmlenc#"
NS = ('xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" '
      'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
      'xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"')

# 1. draft-ietf-keyprov-pskc-02: Device/Key in the old layout, the PIN key beside the OTP key.
write("draft-ietf-keyprov-pskc-02-pin.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-ietf-keyprov-pskc-02 layout (its figure 3): an HOTP key protected by a PIN checked
     on the device, with the PIN key in the same Device. Secret 12345678901234567890. -->
<KeyContainer Version="1.0" id="exampleID1" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <Device>
    <DeviceInfo><Manufacturer>Manufacturer</Manufacturer><SerialNo>987654321</SerialNo></DeviceInfo>
    <Key KeyId="12345678" KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#hotp">
      <Issuer>Issuer</Issuer>
      <Usage><ResponseFormat Length="8" Encoding="DECIMAL"/></Usage>
      <Data>
        <Secret><PlainValue>{B(RFC)}</PlainValue></Secret>
        <Counter><PlainValue>0</PlainValue></Counter>
      </Data>
      <Policy>
        <PINPolicy MinLength="4" MaxLength="4" PINKeyId="123456781" PINEncoding="DECIMAL" PINUsageMode="Local"/>
        <KeyUsage>OTP</KeyUsage>
      </Policy>
    </Key>
    <Key KeyId="123456781" KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#pin">
      <Usage><ResponseFormat Length="4" Encoding="DECIMAL"/></Usage>
      <Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret></Data>
    </Key>
  </Device>
</KeyContainer>
""")
token("draft-ietf-keyprov-pskc-02-pin.xml", "-", "987654321", "hotp", RFC, digits=8)

# 2. draft-ietf-keyprov-pskc-02, AES-128-CBC under a pre-shared key, MACAlgorithm element
#    (the MAC key is the encryption key).
ct = cbc(algorithms.AES, PSK, bytes(range(16)), RFC)
write("draft-ietf-keyprov-pskc-02-aes128.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-ietf-keyprov-pskc-02 layout (its figure 4): AES-128-CBC, pre-shared key
     12345678901234567890123456789012, MACAlgorithm keyed with that key. -->
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  <EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
  <MACAlgorithm>http://www.w3.org/2000/09/xmldsig#hmac-sha1
  </MACAlgorithm>
  <Device>
    <DeviceInfo><Manufacturer>Manufacturer</Manufacturer><SerialNo>987654322</SerialNo></DeviceInfo>
    <Key KeyId="12345678" KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#hotp">
      <Usage><ResponseFormat Length="8" Encoding="DECIMAL"/></Usage>
      <Data>
        <Secret>{ev(XENC + "aes128-cbc", ct, mac(hashlib.sha1, PSK, ct), prefix="")}</Secret>
        <Counter><PlainValue>0</PlainValue></Counter>
      </Data>
    </Key>
  </Device>
</KeyContainer>
""")
token("draft-ietf-keyprov-pskc-02-aes128.xml", "psk:" + PSK.hex(), "987654322", "hotp", RFC,
      digits=8)

# 3. draft-hoyer-keyprov-pskc-algorithm-profiles-01: TOTP with a drift of 4 steps.
write("algorithm-profiles-totp.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-hoyer-keyprov-pskc-algorithm-profiles-01 section 4 layout: TOTP, 30 s, TimeDrift 4.
     Secret 12345678901234567890. -->
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc:1.0">
  <Device>
    <DeviceInfo><Manufacturer>TokenVendorAcme</Manufacturer><SerialNo>987654323</SerialNo></DeviceInfo>
    <Key KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#totp" KeyId="987654323">
      <Issuer>Issuer</Issuer>
      <Usage OTP="true"><ResponseFormat Length="6" Format="DECIMAL"/></Usage>
      <Data>
        <Secret><PlainValue>
          {B(RFC)}
        </PlainValue></Secret>
        <Time><PlainValue>0</PlainValue></Time>
        <TimeInterval><PlainValue>30</PlainValue></TimeInterval>
        <TimeDrift><PlainValue>4</PlainValue></TimeDrift>
      </Data>
    </Key>
  </Device>
</KeyContainer>
""")
token("algorithm-profiles-totp.xml", "-", "987654323", "totp", RFC, drift=4)

# 4. draft-hoyer-01: Data Name="SECRET"/"COUNTER" with Value; the counter is 8 bytes big-endian.
write("draft-hoyer-01-plain.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-hoyer-keyprov-portable-symmetric-key-container-01 section 10.1 layout: HOTP,
     counter 42 as an 8-byte big-endian Value. Secret 12345678901234567890. -->
<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:container"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <EncryptionMethod algorithm="NONE"/>
  <DigestMethod algorithm="HMAC-SHA1"></DigestMethod>
  <Device>
    <DeviceId><Manufacturer>Token Manufacturer</Manufacturer><SerialNo>98765432187</SerialNo>
      <Expiry>01/01/2008</Expiry></DeviceId>
    <Key KeyAlgorithm="HOTP" KeyId="98765432187">
      <Issuer>Credential Issuer</Issuer>
      <Usage><ResponseFormat format="DECIMAL" length="6"/></Usage>
      <FriendlyName>MyFirstToken</FriendlyName>
      <Data Name="SECRET"><Value>{B(RFC)}</Value></Data>
      <Data Name="COUNTER"><Value>{B((42).to_bytes(8, "big"))}</Value></Data>
    </Key>
  </Device>
</KeyContainer>
""")
token("draft-hoyer-01-plain.xml", "-", "98765432187", "hotp", RFC, counter=42)

# 5. draft-hoyer-01 with its own password-based encryption: refused by name.
write("draft-hoyer-01-pbe.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-hoyer-keyprov-portable-symmetric-key-container-01 section 10.2 layout: the draft's
     PBE-3DES112-CBC, which Sekisho refuses by name. -->
<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:container">
  <EncryptionMethod algorithm="PBE-3DES112-CBC">
    <PBESalt>y6TzckeLRQw=</PBESalt><PBEIterationCount>999</PBEIterationCount>
  </EncryptionMethod>
  <DigestMethod algorithm="HMAC-SHA1"></DigestMethod>
  <Device>
    <DeviceId><SerialNo>98765432188</SerialNo></DeviceId>
    <Key KeyAlgorithm="HOTP" KeyId="77654321870">
      <Data Name="SECRET"><Value>F/CY93NYc/SvmxT3oB6PzG7p6zpG92/t</Value>
        <ValueDigest>hN793ZE7GM6yCM6gz9OKNRzibhg=</ValueDigest></Data>
    </Key>
  </Device>
</KeyContainer>
""")

# 6. draft-hoyer-00: SecretContainer in the OATH 2006 namespace.
secret6 = bytes.fromhex("3bd1b6c8b8f6d0a3b0d4e0aa5a0fd7a1c6a2d9e3")
write("draft-hoyer-00-secretcontainer.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- draft-hoyer-keyprov-portable-symmetric-key-container-00 section 10.1 layout:
     SecretContainer, HOTP, counter 12. Secret {secret6.hex()}. -->
<SecretContainer xmlns="http://www.openauthentication.org/OATH/2006/08/PSKC"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#" version="1.2">
  <EncryptionMethod algorithm="NONE"/>
  <DigestMethod algorithm="HMAC-SHA1"></DigestMethod>
  <Device>
    <DeviceId><Manufacturer>Token Manufacturer</Manufacturer><SerialNo>98765432189</SerialNo></DeviceId>
    <Secret SecretAlgorithm="HOTP" SecretId="98765432189">
      <Usage><ResponseFormat format="DECIMAL" length="6"/></Usage>
      <Data Name="SECRET"><Value>{B(secret6)}</Value></Data>
      <Data Name="COUNTER"><Value>{B((12).to_bytes(8, "big"))}</Value></Data>
    </Secret>
  </Device>
</SecretContainer>
""")
token("draft-hoyer-00-secretcontainer.xml", "-", "98765432189", "hotp", secret6, counter=12)


def rfc_file(name, comment, packages, cipher_uri, key, mac_alg_uri, mac_key_ct):
    mac_key = ("" if mac_key_ct is None else
               f"<pskc:MACKey><xenc:EncryptionMethod Algorithm=\"{cipher_uri}\"/><xenc:CipherData>"
               f"<xenc:CipherValue>{B(mac_key_ct)}</xenc:CipherValue></xenc:CipherData></pskc:MACKey>")
    write(name, f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- {comment} -->
<pskc:KeyContainer Version="1.0" {NS}>
  <pskc:EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="{mac_alg_uri}">{mac_key}</pskc:MACMethod>
{packages}
</pskc:KeyContainer>
""")


def package(serial, alg, params, data, policy="", info_extra=""):
    return f"""  <pskc:KeyPackage>
    <pskc:DeviceInfo><pskc:Manufacturer>Vendor</pskc:Manufacturer><pskc:SerialNo>{serial}</pskc:SerialNo>{info_extra}</pskc:DeviceInfo>
    <pskc:Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:{alg}">
      <pskc:Issuer>Vendor</pskc:Issuer>
      <pskc:AlgorithmParameters>{params}</pskc:AlgorithmParameters>
      <pskc:Data>{data}</pskc:Data>{policy}
    </pskc:Key>
  </pskc:KeyPackage>"""


# 7. multiOTP-style: encrypted counter, time interval and drift (AES-128-CBC, MACKey).
mk = bytes.fromhex("1122334455667788990011223344556677889900")
enc = lambda data, iv: cbc(algorithms.AES, PSK, bytes([iv]) * 16, data)
secret7a = bytes.fromhex("a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3")
secret7b = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c")
s7a, c7a = enc(secret7a, 1), enc((1234).to_bytes(8, "big"), 2)
s7b, i7b, d7b = enc(secret7b, 3), enc(b"60", 4), enc((-2).to_bytes(8, "big", signed=True), 5)
m = lambda ct: mac(hashlib.sha1, mk, ct)
rfc_file("multiotp-encrypted-counters.xml",
         "multiOTP-style: AES-128-CBC under pre-shared key 12345678901234567890123456789012, "
         "MACKey; the HOTP Counter (1234, 8 bytes big-endian), the TOTP TimeInterval (\"60\" in "
         "ASCII) and TimeDrift (-2, 8 bytes) are encrypted too.",
         package("MOTP0001", "hotp", '<pskc:ResponseFormat Length="6" Encoding="DECIMAL"/>',
                 f"<pskc:Secret>{ev(XENC + 'aes128-cbc', s7a, m(s7a))}</pskc:Secret>"
                 f"<pskc:Counter>{ev(XENC + 'aes128-cbc', c7a, m(c7a))}</pskc:Counter>") + "\n" +
         package("MOTP0002", "totp", '<pskc:ResponseFormat Length="6" Encoding="DECIMAL"/>',
                 f"<pskc:Secret>{ev(XENC + 'aes128-cbc', s7b, m(s7b))}</pskc:Secret>"
                 f"<pskc:TimeInterval>{ev(XENC + 'aes128-cbc', i7b, m(i7b))}</pskc:TimeInterval>"
                 f"<pskc:TimeDrift>{ev(XENC + 'aes128-cbc', d7b, m(d7b))}</pskc:TimeDrift>"),
         XENC + "aes128-cbc", PSK, "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
         cbc(algorithms.AES, PSK, b"\x09" * 16, mk))
token("multiotp-encrypted-counters.xml", "psk:" + PSK.hex(), "MOTP0001", "hotp", secret7a,
      counter=1234)
token("multiotp-encrypted-counters.xml", "psk:" + PSK.hex(), "MOTP0002", "totp", secret7b,
      period=60, drift=-2)

# 8. Key transport algorithms, one file each.
def transport(name, cipher_uri, key, encrypt, secret, mac_uri, mac_fn, serial, mac_key_ct=None,
              mac_key=None):
    ct = encrypt(secret)
    mkey = key if mac_key is None else mac_key
    rfc_file(name, f"{cipher_uri} under pre-shared key {key.hex()}, MAC {mac_uri}. "
                   f"Secret {secret.hex()}.",
             package(serial, "hotp", '<pskc:ResponseFormat Length="6" Encoding="DECIMAL"/>',
                     f"<pskc:Secret>{ev(cipher_uri, ct, mac(mac_fn, mkey, ct))}</pskc:Secret>"
                     "<pskc:Counter><pskc:PlainValue>0</pskc:PlainValue></pskc:Counter>"),
             cipher_uri, key, mac_uri, mac_key_ct)
    token(name, "psk:" + key.hex(), serial, "hotp", secret)


s16 = bytes.fromhex("00112233445566778899aabbccddeeff")
s24 = bytes.fromhex("000102030405060708090a0b0c0d0e0f1011121314151617")
transport("kw-aes128.xml", XENC + "kw-aes128", PSK, lambda s: keywrap.aes_key_wrap(PSK, s),
          s16, "http://www.w3.org/2001/04/xmldsig-more#hmac-sha1", hashlib.sha1, "KWAES128")
transport("kw-aes256-pad.xml", "http://www.w3.org/2009/xmlenc11#kw-aes-256-pad", PSK32,
          lambda s: keywrap.aes_key_wrap_with_padding(PSK32, s), RFC,
          "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", hashlib.sha256, "KWAES256PAD")
transport("kw-tripledes.xml", XENC + "kw-tripledes", PSK24, lambda s: tdes_kw(PSK24, s), s24,
          "http://www.w3.org/2000/09/xmldsig#hmac-sha1", hashlib.sha1, "KW3DES")
transport("tripledes-cbc.xml", XENC + "tripledes-cbc", PSK24,
          lambda s: cbc(TripleDES, PSK24, b"\x07" * 8, s), RFC,
          "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512", hashlib.sha512, "TDESCBC")
transport("camellia128-cbc.xml", "http://www.w3.org/2001/04/xmldsig-more#camellia128-cbc", PSK,
          lambda s: cbc(algorithms.Camellia, PSK, b"\x0b" * 16, s), RFC,
          "http://www.w3.org/2000/09/xmldsig#hmac-sha1", hashlib.sha1, "CAMELLIA128")

# 9. Feitian-style: plaintext TOTP seeds, 60 s, with device and key validity dates.
secret9 = [bytes.fromhex(h) for h in ("5ed3a7c8f1e2d3c4b5a69788796a5b4c3d2e1f00",
                                      "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00")]
pk = "\n".join(
    package(f"2600215{i}", "totp", '<pskc:ResponseFormat Length="6" Encoding="DECIMAL"/>',
            f"<pskc:Secret><pskc:PlainValue>{B(s)}</pskc:PlainValue></pskc:Secret>"
            "<pskc:Time><pskc:PlainValue>0</pskc:PlainValue></pskc:Time>"
            "<pskc:TimeInterval><pskc:PlainValue>60</pskc:PlainValue></pskc:TimeInterval>",
            "<pskc:Policy><pskc:StartDate>2026-01-01T00:00:00Z</pskc:StartDate>"
            "<pskc:ExpiryDate>2031-12-31T23:59:59Z</pskc:ExpiryDate>"
            "<pskc:KeyUsage>OTP</pskc:KeyUsage></pskc:Policy>",
            "<pskc:Model>c200</pskc:Model>")
    for i, s in enumerate(secret9))
write("feitian-c200-totp.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Feitian-style c200 seed file: plaintext TOTP, 60 s, valid 2026-01-01 to 2031-12-31. -->
<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
{pk}
</pskc:KeyContainer>
""")
for i, s in enumerate(secret9):
    token("feitian-c200-totp.xml", "-", f"2600215{i}", "totp", s, period=60,
          extra="valid:2026-01-01T00:00:00Z/2031-12-31T23:59:59Z")

# 10. ActivIdentity-style: 8 digits, counter 5, AES-256-CBC, MACKey, NumberOfTransactions.
mk10 = bytes(range(32))
s10 = cbc(algorithms.AES, PSK32, b"\x0c" * 16, RFC)
rfc_file("actividentity-aes256.xml",
         "ActivIdentity-style: HOTP, 8 digits, counter 5, AES-256-CBC under pre-shared key "
         f"{PSK32.hex()}, HMAC-SHA256 with MACKey, at most 1000 transactions. Secret "
         "12345678901234567890.",
         package("AI00012345", "hotp",
                 '<pskc:Suite>HMAC-SHA1</pskc:Suite><pskc:ResponseFormat Length="8" Encoding="DECIMAL"/>',
                 f"<pskc:Secret>{ev(XENC + 'aes256-cbc', s10, mac(hashlib.sha256, mk10, s10))}</pskc:Secret>"
                 "<pskc:Counter><pskc:PlainValue>5</pskc:PlainValue></pskc:Counter>",
                 "<pskc:Policy><pskc:NumberOfTransactions>1000</pskc:NumberOfTransactions>"
                 "</pskc:Policy>"),
         XENC + "aes256-cbc", PSK32, "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
         cbc(algorithms.AES, PSK32, b"\x0d" * 16, mk10))
token("actividentity-aes256.xml", "psk:" + PSK32.hex(), "AI00012345", "hotp", RFC, digits=8,
      counter=5, extra="transactions:1000")

# 11. Yubico-style: blank lines before the XML declaration, a YubiKey OTP (AES) key that is
#     refused and an OATH-HOTP key that is read.
secret11 = bytes.fromhex("e2a5b3c7d9f10fa2c4b6d8e0f1a3c5e7f9b1d3e5")
write("yubico-oath-hotp.xml", f"""

<?xml version="1.0" encoding="UTF-8"?>
<!-- Yubico-style: blank lines before the declaration; KeyPackage 1 is a YubiKey OTP key
     (refused), KeyPackage 2 OATH-HOTP. Secret {secret11.hex()}. -->
<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
  <pskc:KeyPackage>
    <pskc:DeviceInfo><pskc:Manufacturer>oath.UB</pskc:Manufacturer><pskc:SerialNo>283599</pskc:SerialNo>
      <pskc:StartDate>2009-01-22T00:25:11Z</pskc:StartDate></pskc:DeviceInfo>
    <pskc:CryptoModuleInfo><pskc:Id>1</pskc:Id></pskc:CryptoModuleInfo>
    <pskc:Key Id="283599:1" Algorithm="http://www.yubico.com/#yubikey-aes">
      <pskc:Data><pskc:Secret><pskc:PlainValue>K34VFiiu0qar9xWICc9PPA==</pskc:PlainValue></pskc:Secret></pskc:Data>
    </pskc:Key>
  </pskc:KeyPackage>
  <pskc:KeyPackage>
    <pskc:DeviceInfo><pskc:Manufacturer>oath.UB</pskc:Manufacturer><pskc:SerialNo>283600</pskc:SerialNo>
      <pskc:StartDate>2009-01-22T00:25:11Z</pskc:StartDate></pskc:DeviceInfo>
    <pskc:CryptoModuleInfo><pskc:Id>2</pskc:Id></pskc:CryptoModuleInfo>
    <pskc:Key Id="283600:2" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <pskc:Issuer>oath.UB</pskc:Issuer>
      <pskc:AlgorithmParameters><pskc:ResponseFormat Encoding="DECIMAL" Length="6"/></pskc:AlgorithmParameters>
      <pskc:Data><pskc:Secret><pskc:PlainValue>{B(secret11)}</pskc:PlainValue></pskc:Secret>
        <pskc:Counter><pskc:PlainValue>0</pskc:PlainValue></pskc:Counter></pskc:Data>
    </pskc:Key>
  </pskc:KeyPackage>
</pskc:KeyContainer>
""")
token("yubico-oath-hotp.xml", "-", "283600", "hotp", secret11,
      extra="valid:2009-01-22T00:25:11Z/")

# 12. privacyIDEA-style: TOTP SHA-256 (suite in lower case), PBKDF2 passphrase, kw-aes128.
salt, iters = b"privacyidea-salt", 2000
dk = hashlib.pbkdf2_hmac("sha1", b"qwerty", salt, iters, 16)
mk12 = bytes.fromhex("00" * 20)
s12 = keywrap.aes_key_wrap(dk, RFC32)
write("privacyidea-totp-sha256.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- privacyIDEA-style: TOTP HMAC-SHA256, 8 digits, 30 s; kw-aes128 under a PBKDF2 key from the
     passphrase "qwerty" (salt "{salt.decode()}", {iters} iterations), MACKey. Secret
     12345678901234567890123456789012. -->
<pskc:KeyContainer Version="1.0" {NS}
  xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
  xmlns:xenc11="http://www.w3.org/2009/xmlenc11#">
  <pskc:EncryptionKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
        <pkcs5:PBKDF2-params><Salt><Specified>{B(salt)}</Specified></Salt>
          <IterationCount>{iters}</IterationCount><KeyLength>16</KeyLength><PRF/></pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>My Password 1</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  </pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <pskc:MACKey><xenc:EncryptionMethod Algorithm="{XENC}kw-aes128"/><xenc:CipherData>
      <xenc:CipherValue>{B(keywrap.aes_key_wrap(dk, mk12 + bytes(4)))}</xenc:CipherValue></xenc:CipherData></pskc:MACKey>
  </pskc:MACMethod>
{package("PIDE0001E4A7", "totp", '<pskc:Suite>hmac-sha256</pskc:Suite><pskc:ResponseFormat Length="8" Encoding="DECIMAL"/>',
         f"<pskc:Secret>{ev(XENC + 'kw-aes128', s12, mac(hashlib.sha1, mk12 + bytes(4), s12))}</pskc:Secret>"
         "<pskc:TimeInterval><pskc:PlainValue>30</pskc:PlainValue></pskc:TimeInterval>")}
</pskc:KeyContainer>
""")
token("privacyidea-totp-sha256.xml", "pass:qwerty", "PIDE0001E4A7", "totp", RFC32, digits=8,
      algo="SHA256")

# 13. Policies: an element Sekisho does not know refuses the entry; a later one is fine.
write("policy-unknown-element.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- RFC 6030 section 5: KeyPackage 1's Policy has an element the importer does not know, so
     the key must not be used; KeyPackage 2 expires at the end of 2030. -->
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><SerialNo>POL0001</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Data><Secret><PlainValue>{B(RFC)}</PlainValue></Secret></Data>
      <Policy><KeyUsage>OTP</KeyUsage><GeoFence>JP</GeoFence></Policy>
    </Key>
  </KeyPackage>
  <KeyPackage>
    <DeviceInfo><SerialNo>POL0002</SerialNo></DeviceInfo>
    <Key Id="2" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Data><Secret><PlainValue>{B(RFC)}</PlainValue></Secret></Data>
      <Policy><ExpiryDate>2030-12-31T23:59:59Z</ExpiryDate></Policy>
    </Key>
  </KeyPackage>
</KeyContainer>
""")
token("policy-unknown-element.xml", "-", "POL0002", "hotp", RFC,
      extra="valid:/2030-12-31T23:59:59Z")

# 14. RFC 6030 figure 2's 4-byte secret, with short secrets allowed (test tokens only).
token("../rfc6030-figure2.xml", "short", "12345678", "hotp", b"1234")

# 15. A container whose keys are nowhere any PSKC version puts them.
write("no-key-package.xml", """<?xml version="1.0" encoding="UTF-8"?>
<!-- A KeyContainer with neither KeyPackage nor Device: an error, never an empty success. -->
<KeyContainer Version="1.0" xmlns="urn:example:vendor:tokens">
  <Token serial="X1" seed="3132333435363738393031323334353637383930"/>
</KeyContainer>
""")

with open("corpus.txt", "w") as f:
    f.write("# Written by make_corpus.py; codes from oathtool. One token a line:\n"
            "# file | key | token_id | kind | algorithm | digits | period | counter | drift | "
            "secret (hex) | counter-or-time:code ... | extra\n")
    for line in manifest:
        f.write(line + "\n")
