//! The NewReleaseMessage's XML, written with quick-xml's writer in the
//! element order of the ERN 4.3 schema (release-notification.xsd): the
//! header, the parties, a SoundRecording per track (ISRC, titles, artists,
//! contributors, duration to the millisecond, parental warning, and the
//! delivered file with its codec, rate, bits, size and MD5) and the cover
//! Image, the album Release (ICPN, type, genre, a ResourceGroup per disc in
//! track order) with a TrackRelease per track, and one ReleaseDeal holding
//! every deal. Nothing here reads a clock, a file or the environment.

use std::io;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{iso_duration, millis, release_type, uri_encode, BundleFiles, DdexError};
use crate::deliver::tags::display_artist;
use crate::manifest::model::{AudioFormat, Ddex, Manifest};

/// The message's name inside `streaming/NAME/ddex/`.
pub const MESSAGE_FILE: &str = "NewReleaseMessage.xml";

/// The message for one bundle, as UTF-8 bytes. The message id is the
/// manifest's, else `GM` + the EAN-13 + 16 hex digits of the MD5 of the
/// message written without an id: it changes when anything in it does.
pub fn message(m: &Manifest, ddex: &Ddex, b: &BundleFiles) -> Result<Vec<u8>, DdexError> {
    let upc = m
        .release
        .upc
        .as_ref()
        .ok_or_else(|| DdexError::Missing("the release has no UPC".into()))?;
    if let Some(id) = &ddex.message_id {
        return write(m, ddex, b, id);
    }
    let draft = write(m, ddex, b, "")?;
    let id = format!(
        "GM{}-{}",
        upc.ean13(),
        &format!("{:x}", md5::compute(&draft))[..16]
    );
    write(m, ddex, b, &id)
}

/// The parties: every distinct name once, `P1`, `P2`, ... in order of
/// first appearance (release artist, then each track's artists and
/// contributors, then the label).
struct Parties {
    names: Vec<String>,
}

impl Parties {
    fn reference(&mut self, name: &str) -> String {
        let i = match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        };
        format!("P{}", i + 1)
    }
}

/// A track's contributors in DDEX's ContributorRole words.
fn contributors(t: &crate::manifest::model::Track) -> Vec<(&str, &'static str)> {
    [
        (&t.composer, "Composer"),
        (&t.lyricist, "Lyricist"),
        (&t.arranger, "Arranger"),
        (&t.producer, "Producer"),
    ]
    .into_iter()
    .filter_map(|(n, role)| n.as_deref().map(|n| (n, role)))
    .collect()
}

fn write(m: &Manifest, ddex: &Ddex, b: &BundleFiles, id: &str) -> Result<Vec<u8>, DdexError> {
    let r = &m.release;
    let mut parties = Parties { names: Vec::new() };
    let main = parties.reference(&r.artist);
    let mut track_refs = Vec::new();
    for t in &m.tracks {
        let artists: Vec<(String, &str)> =
            std::iter::once((parties.reference(&t.artist), "MainArtist"))
                .chain(
                    t.featuring
                        .iter()
                        .map(|f| (parties.reference(f), "FeaturedArtist")),
                )
                .collect();
        let contribs: Vec<(String, &str)> = contributors(t)
            .into_iter()
            .map(|(n, role)| (parties.reference(n), role))
            .collect();
        track_refs.push((artists, contribs));
    }
    let label_name = r.label.clone().unwrap_or_else(|| ddex.sender.name.clone());
    let label = parties.reference(&label_name);
    let sender_ns = format!("DPID:{}", ddex.sender.party_id);
    let track_ms: Vec<u64> = b.files.iter().map(|f| millis(f.duration_s)).collect();
    let any_explicit = r.explicit || m.tracks.iter().any(|t| t.explicit);
    let upc = r
        .upc
        .as_ref()
        .map(|u| u.ean13().to_owned())
        .unwrap_or_default();

    let mut x = Xml::new();
    x.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    x.open(
        "ern:NewReleaseMessage",
        &[
            ("xmlns:ern", "http://ddex.net/xml/ern/43"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://ddex.net/xml/ern/43 http://service.ddex.net/xml/ern/43/release-notification.xsd",
            ),
            ("LanguageAndScriptCode", r.language.as_deref().unwrap_or("en")),
            ("AvsVersionId", "4.3"),
        ],
    )?;

    x.open("MessageHeader", &[])?;
    x.leaf("MessageId", id)?;
    x.messaging_party("MessageSender", &ddex.sender.party_id, &ddex.sender.name)?;
    for p in &ddex.recipients {
        x.messaging_party("MessageRecipient", &p.party_id, &p.name)?;
    }
    x.leaf("MessageCreatedDateTime", &b.created)?;
    x.close("MessageHeader")?;

    x.open("PartyList", &[])?;
    for (i, name) in parties.names.iter().enumerate() {
        x.open("Party", &[])?;
        x.leaf("PartyReference", &format!("P{}", i + 1))?;
        x.open("PartyName", &[])?;
        x.leaf("FullName", name)?;
        x.close("PartyName")?;
        if *name == ddex.sender.name {
            x.open("PartyId", &[])?;
            x.leaf("DPID", &ddex.sender.party_id)?;
            x.close("PartyId")?;
        }
        x.close("Party")?;
    }
    x.close("PartyList")?;

    x.open("ResourceList", &[])?;
    for (i, (t, f)) in m.tracks.iter().zip(&b.files).enumerate() {
        let n = i + 1;
        x.open("SoundRecording", &[])?;
        x.leaf("ResourceReference", &format!("A{n}"))?;
        x.leaf("Type", "MusicalWorkSoundRecording")?;
        x.open("SoundRecordingEdition", &[])?;
        x.open("ResourceId", &[])?;
        let isrc = t
            .isrc
            .as_ref()
            .ok_or_else(|| DdexError::Missing(format!("track {n} has no ISRC")))?;
        x.leaf("ISRC", isrc.as_str())?;
        x.close("ResourceId")?;
        if let Some(p) = &r.phonographic_copyright {
            x.copyright_line("PLine", p)?;
        }
        x.leaf(
            "RecordingMode",
            if f.channels == 1 { "Mono" } else { "Stereo" },
        )?;
        x.open("TechnicalDetails", &[])?;
        x.leaf("TechnicalResourceDetailsReference", &format!("T{n}"))?;
        x.open("DeliveryFile", &[])?;
        x.leaf("Type", "AudioFile")?;
        let codec = match b.format.format {
            AudioFormat::Wav => {
                x.leaf("ContainerFormat", "WAV")?;
                "PCM"
            }
            AudioFormat::Flac => "FLAC",
            AudioFormat::Mp3 => "MP3",
            AudioFormat::Ogg => {
                x.leaf("ContainerFormat", "Ogg")?;
                "Vorbis"
            }
            AudioFormat::Opus => {
                x.leaf("ContainerFormat", "Ogg")?;
                "Opus"
            }
            AudioFormat::Aac => {
                x.leaf("ContainerFormat", "MP4")?;
                "AAC"
            }
        };
        x.leaf("AudioCodecType", codec)?;
        if let Some(kbps) = b.format.bitrate_kbps {
            x.leaf_with("BitRate", &[("UnitOfMeasure", "kbps")], &kbps.to_string())?;
        }
        x.leaf("NumberOfChannels", &f.channels.to_string())?;
        x.leaf_with(
            "SamplingRate",
            &[("UnitOfMeasure", "Hz")],
            &f.sample_rate.to_string(),
        )?;
        if let Some(bits) = b.format.bit_depth {
            x.leaf("BitsPerSample", &bits.to_string())?;
        }
        x.leaf("Duration", &iso_duration(track_ms[i]))?;
        x.file(&f.name, &f.md5, f.size)?;
        x.close("DeliveryFile")?;
        x.close("TechnicalDetails")?;
        x.close("SoundRecordingEdition")?;
        x.titles(&t.title, t.version.as_deref())?;
        x.leaf(
            "DisplayArtistName",
            &display_artist(&t.artist, &t.featuring),
        )?;
        let (artists, contribs) = &track_refs[i];
        for (k, (p, role)) in artists.iter().enumerate() {
            x.display_artist(k + 1, p, role)?;
        }
        for (k, (p, role)) in contribs.iter().enumerate() {
            x.open("Contributor", &[("SequenceNumber", &(k + 1).to_string())])?;
            x.leaf("ContributorPartyReference", p)?;
            x.leaf("Role", role)?;
            x.close("Contributor")?;
        }
        x.leaf("Duration", &iso_duration(track_ms[i]))?;
        let warn = if t.explicit || r.explicit {
            "Explicit"
        } else {
            "NotExplicit"
        };
        x.leaf("ParentalWarningType", warn)?;
        x.close("SoundRecording")?;
    }
    let cover_ref = format!("A{}", m.tracks.len() + 1);
    if let Some(c) = &b.cover {
        x.open("Image", &[])?;
        x.leaf("ResourceReference", &cover_ref)?;
        x.leaf("Type", "FrontCoverImage")?;
        x.open("ResourceId", &[])?;
        x.leaf_with(
            "ProprietaryId",
            &[("Namespace", &sender_ns)],
            &format!("{upc}_cover"),
        )?;
        x.close("ResourceId")?;
        x.open("TechnicalDetails", &[])?;
        x.leaf(
            "TechnicalResourceDetailsReference",
            &format!("T{}", m.tracks.len() + 1),
        )?;
        x.leaf("ImageCodecType", "JPEG")?;
        x.leaf_with(
            "ImageHeight",
            &[("UnitOfMeasure", "Pixel")],
            &c.height.to_string(),
        )?;
        x.leaf_with(
            "ImageWidth",
            &[("UnitOfMeasure", "Pixel")],
            &c.width.to_string(),
        )?;
        x.file(&c.name, &c.md5, c.size)?;
        x.close("TechnicalDetails")?;
        x.close("Image")?;
    }
    x.close("ResourceList")?;

    x.open("ReleaseList", &[])?;
    x.open("Release", &[])?;
    x.leaf("ReleaseReference", "R0")?;
    x.leaf("ReleaseType", release_type(&track_ms).as_str())?;
    x.open("ReleaseId", &[])?;
    x.leaf("ICPN", &upc)?;
    if let Some(cat) = &r.catalog_number {
        x.leaf_with("CatalogNumber", &[("Namespace", &sender_ns)], cat)?;
    }
    x.close("ReleaseId")?;
    x.titles(&r.title, None)?;
    x.leaf("DisplayArtistName", &r.artist)?;
    x.display_artist(1, &main, "MainArtist")?;
    x.leaf("ReleaseLabelReference", &label)?;
    if let Some(p) = &r.phonographic_copyright {
        x.copyright_line("PLine", p)?;
    }
    if let Some(c) = &r.copyright {
        x.copyright_line("CLine", c)?;
    }
    x.leaf("Duration", &iso_duration(track_ms.iter().sum()))?;
    let genre = r
        .genre
        .as_deref()
        .ok_or_else(|| DdexError::Missing("the release has no genre".into()))?;
    x.genre(genre)?;
    if let Some(d) = &r.release_date {
        x.leaf("ReleaseDate", d)?;
    }
    x.leaf(
        "ParentalWarningType",
        if any_explicit {
            "Explicit"
        } else {
            "NotExplicit"
        },
    )?;
    x.open("ResourceGroup", &[])?;
    let mut discs: Vec<u32> = m.tracks.iter().map(|t| t.disc).collect();
    discs.sort_unstable();
    discs.dedup();
    let content = |x: &mut Xml, disc: u32| -> io::Result<()> {
        let on_disc = m.tracks.iter().enumerate().filter(|(_, t)| t.disc == disc);
        for (seq, (i, _)) in on_disc.enumerate() {
            x.open("ResourceGroupContentItem", &[])?;
            x.leaf("SequenceNumber", &(seq + 1).to_string())?;
            x.leaf("ReleaseResourceReference", &format!("A{}", i + 1))?;
            x.close("ResourceGroupContentItem")?;
        }
        Ok(())
    };
    if discs.len() == 1 {
        content(&mut x, discs[0])?;
    } else {
        for &d in &discs {
            x.open("ResourceGroup", &[("ResourceGroupType", "Component")])?;
            x.leaf("SequenceNumber", &d.to_string())?;
            content(&mut x, d)?;
            x.close("ResourceGroup")?;
        }
    }
    if b.cover.is_some() {
        x.open("ResourceGroupContentItem", &[])?;
        x.leaf("ReleaseResourceReference", &cover_ref)?;
        x.close("ResourceGroupContentItem")?;
    }
    x.close("ResourceGroup")?;
    x.close("Release")?;
    for (i, t) in m.tracks.iter().enumerate() {
        x.open("TrackRelease", &[])?;
        x.leaf("ReleaseReference", &format!("R{}", i + 1))?;
        x.open("ReleaseId", &[])?;
        let isrc = t.isrc.as_ref().map(|c| c.as_str()).unwrap_or_default();
        x.leaf_with(
            "ProprietaryId",
            &[("Namespace", &sender_ns)],
            &format!("{upc}_{isrc}"),
        )?;
        x.close("ReleaseId")?;
        x.leaf("ReleaseResourceReference", &format!("A{}", i + 1))?;
        x.leaf("ReleaseLabelReference", &label)?;
        x.genre(genre)?;
        x.close("TrackRelease")?;
    }
    x.close("ReleaseList")?;

    x.open("DealList", &[])?;
    x.open("ReleaseDeal", &[])?;
    for i in 0..=m.tracks.len() {
        x.leaf("DealReleaseReference", &format!("R{i}"))?;
    }
    for d in &ddex.deals {
        x.open("Deal", &[])?;
        x.open("DealTerms", &[])?;
        for t in &d.territories {
            x.leaf("TerritoryCode", t)?;
        }
        x.open("ValidityPeriod", &[])?;
        x.leaf("StartDate", &d.start_date)?;
        x.close("ValidityPeriod")?;
        for c in &d.commercial_models {
            x.leaf("CommercialModelType", c)?;
        }
        for u in &d.use_types {
            x.leaf("UseType", u)?;
        }
        x.close("DealTerms")?;
        x.close("Deal")?;
    }
    x.close("ReleaseDeal")?;
    x.close("DealList")?;
    x.close("ern:NewReleaseMessage")?;
    let mut out = x.w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// quick-xml's writer with two-space indents and the few shapes the
/// message repeats.
struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            w: Writer::new_with_indent(Vec::new(), b' ', 2),
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Start(start))
    }

    fn close(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.leaf_with(name, &[], text)
    }

    fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.w
            .create_element(name)
            .with_attributes(attrs.iter().copied())
            .write_text_content(BytesText::new(text))?;
        Ok(())
    }

    fn messaging_party(&mut self, el: &str, id: &str, name: &str) -> io::Result<()> {
        self.open(el, &[])?;
        self.leaf("PartyId", id)?;
        self.open("PartyName", &[])?;
        self.leaf("FullName", name)?;
        self.close("PartyName")?;
        self.close(el)
    }

    fn titles(&mut self, title: &str, version: Option<&str>) -> io::Result<()> {
        self.leaf("DisplayTitleText", title)?;
        self.open("DisplayTitle", &[])?;
        self.leaf("TitleText", title)?;
        if let Some(v) = version {
            self.leaf("SubTitle", v)?;
        }
        self.close("DisplayTitle")
    }

    fn display_artist(&mut self, seq: usize, party: &str, role: &str) -> io::Result<()> {
        self.open("DisplayArtist", &[("SequenceNumber", &seq.to_string())])?;
        self.leaf("ArtistPartyReference", party)?;
        self.leaf("DisplayArtistRole", role)?;
        self.close("DisplayArtist")
    }

    /// A ℗ or © line: its year (the manifest's line begins with one) and text.
    fn copyright_line(&mut self, el: &str, line: &str) -> io::Result<()> {
        self.open(el, &[])?;
        if let Some(year) = line
            .get(..4)
            .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
        {
            self.leaf("Year", year)?;
        }
        self.leaf(
            if el == "PLine" {
                "PLineText"
            } else {
                "CLineText"
            },
            line,
        )?;
        self.close(el)
    }

    fn genre(&mut self, genre: &str) -> io::Result<()> {
        self.open("Genre", &[])?;
        self.leaf("GenreText", genre)?;
        self.close("Genre")
    }

    /// A file beside the `ddex/` folder: its URI relative to the message,
    /// MD5 and size.
    fn file(&mut self, name: &str, md5: &str, size: u64) -> io::Result<()> {
        self.open("File", &[])?;
        self.leaf("URI", &format!("../{}", uri_encode(name)))?;
        self.open("HashSum", &[])?;
        self.leaf("Algorithm", "MD5")?;
        self.leaf("HashSumValue", md5)?;
        self.close("HashSum")?;
        self.leaf("FileSize", &size.to_string())?;
        self.close("File")
    }
}
