//! Trust anchors for the providers picoauth ships presets for, as rustls-webpki
//! [`TrustAnchor`] constants. The bytes are copied verbatim from the `webpki-roots`
//! crate (Mozilla's root store); a test compares them with that crate's entries.
//!
//! Anchors are data: a firmware may also receive a CA certificate over the air (signed
//! by its own update mechanism), keep the DER in flash and turn it into a
//! [`TrustAnchor`] with [`anchor_from_trusted_cert`](crate::anchor_from_trusted_cert),
//! which borrows the DER and needs no heap.
//!
//! | anchor | serves | key | expires | SHA-256 fingerprint of the certificate |
//! |---|---|---|---|---|
//! | [`ISRG_ROOT_X1`] | slack.com (Let's Encrypt YR1 ← Root YR cross-signed) | RSA-4096 | 2035-06-04 | `96:bc:ec:06:26:49:76:f3:74:60:77:9a:cf:28:c5:a7:cf:e8:a3:c0:aa:e1:1a:8f:fc:ee:05:c0:bd:df:08:c6` |
//! | [`DIGICERT_GLOBAL_ROOT_G2`] | api.pinterest.com (DigiCert Global G2 TLS RSA SHA256 2020 CA1) | RSA-2048 | 2038-01-15 | `cb:3c:cb:b7:60:31:e5:e0:13:8f:8d:d3:9a:23:f9:de:47:ff:c3:5e:43:c1:14:4c:ea:27:d4:6a:5a:b1:cb:5f` |

use pki_types::{Der, TrustAnchor};

/// ISRG Root X1 (Internet Security Research Group): RSA-4096, valid until
/// 2035-06-04 11:04:38 UTC, SHA-256 fingerprint
/// `96:bc:ec:06:26:49:76:f3:74:60:77:9a:cf:28:c5:a7:cf:e8:a3:c0:aa:e1:1a:8f:fc:ee:05:c0:bd:df:08:c6`.
///
/// The anchor of slack.com's chain (RSA-2048 leaf ← Let's Encrypt YR1 ← Root YR, the
/// last one cross-signed by this root).
pub const ISRG_ROOT_X1: TrustAnchor<'static> = TrustAnchor {
    subject: Der::from_slice(b"1\x0b0\t\x06\x03U\x04\x06\x13\x02US1)0\'\x06\x03U\x04\n\x13 Internet Security Research Group1\x150\x13\x06\x03U\x04\x03\x13\x0cISRG Root X1"),
    subject_public_key_info: Der::from_slice(b"0\r\x06\t*\x86H\x86\xf7\r\x01\x01\x01\x05\x00\x03\x82\x02\x0f\x000\x82\x02\n\x02\x82\x02\x01\x00\xad\xe8$s\xf4\x147\xf3\x9b\x9e+W(\x1c\x87\xbe\xdc\xb7\xdf8\x90\x8cn<\xe6W\xa0x\xf7u\xc2\xa2\xfe\xf5jn\xf6\x00O(\xdb\xdeh\x86lD\x93\xb6\xb1c\xfd\x14\x12k\xbf\x1f\xd2\xea1\x9b!~\xd13<\xbaH\xf5\xddy\xdf\xb3\xb8\xff\x12\xf1!\x9aK\xc1\x8a\x86qiJffl\x8f~<p\xbf\xad)\"\x06\xf3\xe4\xc0\xe6\x80\xae\xe2K\x8f\xb7\x99~\x94\x03\x9f\xd3G\x97|\x99H#S\xe88\xaeO\no\x83.\xd1IW\x8c\x80t\xb6\xda/\xd08\x8d{\x03p!\x1bu\xf20<\xfa\x8f\xae\xdd\xdac\xab\xeb\x16O\xc2\x8e\x11K~\xcf\x0b\xe8\xff\xb5w.\xf4\xb2{J\xe0L\x12%\x0cp\x8d\x03)\xa0\xe1S$\xec\x13\xd9\xee\x19\xbf\x10\xb3J\x8c?\x89\xa3aQ\xde\xac\x87\x07\x94\xf4cq\xec.\xe2o[\x98\x81\xe1\x89\\4ylv\xef;\x90by\xe6\xdb\xa4\x9a/&\xc5\xd0\x10\xe1\x0e\xde\xd9\x10\x8e\x16\xfb\xb7\xf7\xa8\xf7\xc7\xe5\x02\x07\x98\x8f6\x08\x95\xe7\xe27\x96\r6u\x9e\xfb\x0er\xb1\x1d\x9b\xbc\x03\xf9I\x05\xd8\x81\xdd\x05\xb4*\xd6A\xe9\xac\x01v\x95\n\x0f\xd8\xdf\xd5\xbd\x12\x1f5/(\x17l\xd2\x98\xc1\xa8\tdwnG7\xba\xce\xacY^h\x9d\x7fr\xd6\x89\xc5\x06A)>Y>\xdd&\xf5$\xc9\x11\xa7Z\xa3L@\x1fF\xa1\x99\xb5\xa7:Qn\x86;\x9e}r\xa7\x12\x05xY\xed>Qx\x15\x0b\x03\x8f\x8d\xd0/\x05\xb2>{J\x1cKs\x05\x12\xfc\xc6\xea\xe0P\x13|C\x93t\xb3\xcat\xe7\x8e\x1f\x01\x08\xd00\xd4[q6\xb4\x07\xba\xc100\\H\xb7\x82;\x98\xa6}`\x8a\xa2\xa3)\x82\xcc\xba\xbd\x83\x04\x1b\xa2\x83\x03A\xa1\xd6\x05\xf1\x1b\xc2\xb6\xf0\xa8|\x86;F\xa8H*\x88\xdcv\x9av\xbf\x1fj\xa5=\x19\x8f\xeb8\xf3d\xde\xc8+\r\n(\xff\xf7\xdb\xe2\x15B\xd4\"\xd0\']\xe1y\xfe\x18\xe7p\x88\xadN\xe6\xd9\x8b:\xc6\xdd\'Qn\xff\xbcd\xf53CO\x02\x03\x01\x00\x01"),
    name_constraints: None,
};

/// DigiCert Global Root G2 (DigiCert Inc): RSA-2048, valid until 2038-01-15 12:00:00
/// UTC, SHA-256 fingerprint
/// `cb:3c:cb:b7:60:31:e5:e0:13:8f:8d:d3:9a:23:f9:de:47:ff:c3:5e:43:c1:14:4c:ea:27:d4:6a:5a:b1:cb:5f`.
///
/// The anchor of Pinterest's chain (RSA-2048 leaf ← DigiCert Global G2 TLS RSA SHA256
/// 2020 CA1 ← this root).
pub const DIGICERT_GLOBAL_ROOT_G2: TrustAnchor<'static> = TrustAnchor {
    subject: Der::from_slice(b"1\x0b0\t\x06\x03U\x04\x06\x13\x02US1\x150\x13\x06\x03U\x04\n\x13\x0cDigiCert Inc1\x190\x17\x06\x03U\x04\x0b\x13\x10www.digicert.com1 0\x1e\x06\x03U\x04\x03\x13\x17DigiCert Global Root G2"),
    subject_public_key_info: Der::from_slice(b"0\r\x06\t*\x86H\x86\xf7\r\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x000\x82\x01\n\x02\x82\x01\x01\x00\xbb7\xcd4\xdc{k\xc9\xb2h\x90\xadJu\xffF\xba!\n\x08\x8d\xf5\x19T\xc9\xfb\x88\xdb\xf3\xae\xf2:\x89\x91<z\xe6\xab\x06\x1ak\xcf\xac-\xe8^\t$D\xbab\x9a~\xd6\xa3\xa8~\xe0Tu \x05\xacP\xb7\x9cc\x1al0\xdc\xda\x1f\x19\xb1\xd7\x1e\xde\xfd\xd7\xe0\xcb\x94\x837\xae\xec\x1fCN\xdd{,\xd2\xbd.\xa5/\xe4\xa9\xb8\xad:\xd4\x99\xa4\xb6%\xe9\x9bk\x00`\x92`\xffO!I\x18\xf7g\x90\xaba\x06\x9c\x8f\xf2\xba\xe9\xb4\xe9\x922k\xb5\xf3W\xe8]\x1b\xcd\x8c\x1d\xab\x95\x04\x95I\xf35-\x96\xe3Im\xddw\xe3\xfbIK\xb4\xacU\x07\xa9\x8f\x95\xb3\xb4#\xbbLmE\xf0\xf6\xa9\xb2\x950\xb4\xfdLU\x8c\'JW\x14|\x82\x9d\xcds\x92\xd3\x16J\x06\x0c\x8cP\xd1\x8f\x1e\t\xbe\x17\xa1\xe6!\xca\xfd\x83\xe5\x10\xbc\x83\xa5\n\xc4g(\xf6s\x14\x14=Fv\xc3\x87\x14\x89!4M\xaf\x0fE\x0c\xa6I\xa1\xba\xbb\x9c\xc5\xb13\x83)\x85\x02\x03\x01\x00\x01"),
    name_constraints: None,
};

/// Both anchors, for a firmware that talks to Slack and Pinterest.
pub const SLACK_AND_PINTEREST: &[TrustAnchor<'static>] = &[ISRG_ROOT_X1, DIGICERT_GLOBAL_ROOT_G2];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchors_are_webpki_roots_entries() {
        for (ours, subject_cn) in [
            (&ISRG_ROOT_X1, &b"ISRG Root X1"[..]),
            (&DIGICERT_GLOBAL_ROOT_G2, &b"DigiCert Global Root G2"[..]),
        ] {
            let theirs = webpki_roots::TLS_SERVER_ROOTS
                .iter()
                .find(|a| a.subject.as_ref().ends_with(subject_cn))
                .expect("in webpki-roots");
            assert_eq!(ours.subject.as_ref(), theirs.subject.as_ref());
            assert_eq!(
                ours.subject_public_key_info.as_ref(),
                theirs.subject_public_key_info.as_ref()
            );
            assert!(ours.name_constraints.is_none() && theirs.name_constraints.is_none());
        }
        assert_eq!(SLACK_AND_PINTEREST.len(), 2);
    }

    #[test]
    fn the_anchor_keys_are_the_documented_rsa_sizes() {
        use crate::der::{self, tag, Reader};
        for (a, bits) in [(&ISRG_ROOT_X1, 4096), (&DIGICERT_GLOBAL_ROOT_G2, 2048)] {
            let mut r = Reader::new(a.subject_public_key_info.as_ref());
            assert_eq!(
                r.read(tag::SEQUENCE).unwrap(),
                pki_types::alg_id::RSA_ENCRYPTION.as_ref()
            );
            let key = der::bit_string_bytes(r.read_last(tag::BIT_STRING).unwrap()).unwrap();
            let key = crate::rsa::PublicKey::from_pkcs1_der(key).unwrap();
            assert_eq!(key.modulus_bits(), bits);
        }
    }
}
