//! Reads a NewReleaseMessage back (quick-xml's reader, no schema): the
//! fields `verify` compares with report.json and the files: the message
//! id, the ICPN, the release type, and per SoundRecording its ISRC, title,
//! duration and delivered file (URI, MD5, size); the cover's file too.
//! A message that is not well-formed XML is an error naming the byte
//! offset; nothing of its text is echoed beyond the element at fault.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;

/// A delivered file as the message names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadFile {
    pub uri: String,
    pub md5: Option<String>,
    pub size: Option<u64>,
}

/// One SoundRecording as the message holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRecording {
    pub reference: String,
    pub isrc: Option<String>,
    pub title: Option<String>,
    /// `Duration`, in milliseconds; `None` when absent or not ISO 8601.
    pub duration_ms: Option<u64>,
    pub duration_text: Option<String>,
    pub file: Option<ReadFile>,
}

/// What `verify` reads of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadMessage {
    pub message_id: Option<String>,
    pub icpn: Option<String>,
    pub release_type: Option<String>,
    pub recordings: Vec<ReadRecording>,
    pub cover: Option<ReadFile>,
}

/// Parses a message. Err: why it is not well-formed XML, with the offset.
pub fn read_message(text: &str) -> Result<ReadMessage, String> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut msg = ReadMessage::default();
    let mut rec: Option<ReadRecording> = None;
    let mut file: Option<ReadFile> = None;
    let mut in_image = false;
    loop {
        let at = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| format!("is not well-formed XML at byte {at}: {e}"))?;
        match ev {
            Event::Start(s) => {
                let name = s.local_name().as_ref().to_owned();
                match name.as_str() {
                    "SoundRecording" => rec = Some(ReadRecording::default()),
                    "Image" => in_image = true,
                    "File" => file = Some(ReadFile::default()),
                    _ => {}
                }
                path.push(name);
                text_buf.clear();
            }
            Event::Text(t) => text_buf.push_str(&t.xml10_content()),
            Event::CData(t) => text_buf.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text_buf.push(c);
                } else {
                    let name = r.xml10_content();
                    let resolved = resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("uses an unknown entity at byte {at}"))?;
                    text_buf.push_str(resolved);
                }
            }
            Event::End(_) => {
                let value = std::mem::take(&mut text_buf).trim().to_owned();
                let joined = path.join("/");
                let ends = |s: &str| joined.ends_with(s);
                if ends("MessageHeader/MessageId") {
                    msg.message_id = Some(value.clone());
                } else if ends("ReleaseList/Release/ReleaseId/ICPN") {
                    msg.icpn = Some(value.clone());
                } else if ends("ReleaseList/Release/ReleaseType") {
                    msg.release_type = Some(value.clone());
                } else if let Some(r) = rec.as_mut() {
                    if ends("SoundRecording/ResourceReference") {
                        r.reference = value.clone();
                    } else if ends("SoundRecordingEdition/ResourceId/ISRC") {
                        r.isrc = Some(value.clone());
                    } else if ends("SoundRecording/DisplayTitle/TitleText") && r.title.is_none() {
                        r.title = Some(value.clone());
                    } else if ends("SoundRecording/Duration") {
                        r.duration_ms = super::parse_iso_duration(&value);
                        r.duration_text = Some(value.clone());
                    }
                }
                if let Some(f) = file.as_mut() {
                    if ends("File/URI") {
                        f.uri = value.clone();
                    } else if ends("File/HashSum/HashSumValue") {
                        f.md5 = Some(value.clone());
                    } else if ends("File/FileSize") {
                        f.size = value.parse().ok();
                    }
                }
                match path.pop().as_deref() {
                    Some("SoundRecording") => msg.recordings.extend(rec.take()),
                    Some("Image") => in_image = false,
                    Some("File") => {
                        if let Some(r) = rec.as_mut() {
                            r.file = file.take();
                        } else if in_image && msg.cover.is_none() {
                            msg.cover = file.take();
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if msg.message_id.is_none() {
        return Err("is not a DDEX NewReleaseMessage: it has no MessageHeader/MessageId".into());
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_verify_needs() {
        let xml = r#"<?xml version="1.0"?>
<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43">
 <MessageHeader><MessageId>M1</MessageId></MessageHeader>
 <ResourceList>
  <SoundRecording><ResourceReference>A1</ResourceReference>
   <SoundRecordingEdition><ResourceId><ISRC>GBABC2600001</ISRC></ResourceId>
    <TechnicalDetails><DeliveryFile><File><URI>../01%20A.flac</URI>
     <HashSum><Algorithm>MD5</Algorithm><HashSumValue>abc</HashSumValue></HashSum>
     <FileSize>12</FileSize></File></DeliveryFile></TechnicalDetails></SoundRecordingEdition>
   <DisplayTitle><TitleText>Rock &amp; Roll&#33;</TitleText></DisplayTitle>
   <Duration>PT1M2.345S</Duration>
  </SoundRecording>
  <Image><TechnicalDetails><File><URI>../cover.jpg</URI></File></TechnicalDetails></Image>
 </ResourceList>
 <ReleaseList><Release><ReleaseType>Single</ReleaseType><ReleaseId><ICPN>5012345678900</ICPN></ReleaseId></Release></ReleaseList>
</ern:NewReleaseMessage>"#;
        let m = read_message(xml).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("M1"));
        assert_eq!(m.icpn.as_deref(), Some("5012345678900"));
        assert_eq!(m.release_type.as_deref(), Some("Single"));
        let r = &m.recordings[0];
        assert_eq!(r.isrc.as_deref(), Some("GBABC2600001"));
        assert_eq!(r.title.as_deref(), Some("Rock & Roll!"));
        assert_eq!(r.duration_ms, Some(62_345));
        let f = r.file.as_ref().unwrap();
        assert_eq!(
            (f.uri.as_str(), f.md5.as_deref(), f.size),
            ("../01%20A.flac", Some("abc"), Some(12))
        );
        assert_eq!(m.cover.unwrap().uri, "../cover.jpg");
        assert!(read_message("<a><b></a>").is_err());
        assert!(read_message("<a/>").is_err());
    }
}
