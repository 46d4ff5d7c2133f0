//! The search workload's data (performance.md §4 "Full-text / hybrid search"): prose
//! of 50–200 English-like words, and queries of 2–4 content words, the same on every
//! run. A text is about one of 24 topics: about a third of its words are that topic's
//! (16 content words, neighbouring topics sharing half), the rest common words drawn
//! with a Zipf law; a query asks for words of one topic. So rows cluster by topic, as
//! real texts do, and the nearest rows of a query are its topic's. The benches use it.

/// Words of the generated prose, most frequent first (drawn with a Zipf law).
const WORDS: &str = "the of and to a in is that for it as was with be by on not he this are or his \
from at which but have an they you were her she there one all we their been has more if will \
would when who so no what up out about into than them can only other new some could time these \
two may then first any my now such like our over man me even most made after also did many \
before must through back years where much your way well down should because each just those \
people how too little state good very make world still own see men work long get here between \
both life being under never day same another know while last might us great old year off come \
since against go came right used take three water house mountain river forest garden kitchen \
window market school city village road bridge train station coffee bread cheese apple orange \
summer winter spring autumn morning evening night storm rain snow wind sun cloud boots jacket \
shoes leather wool cotton silk steel iron wood stone glass paper book letter story music song \
painting camera phone computer garden flower tree grass bird horse dog cat fish engine wheel \
doctor teacher farmer sailor soldier artist writer player builder baker hiking climbing running \
walking swimming cooking reading writing travel journey voyage harbor island desert valley \
castle tower church museum library theater hospital factory office shop bank hotel restaurant \
waterproof warm dry heavy light strong quiet bright dark ancient modern simple careful sudden";

/// A small linear congruential generator: the same data on every run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn step(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.step() % n
    }

    /// A word index with a Zipf-like law (rank r drawn about as often as 1/r).
    pub fn zipf(&mut self, n: usize) -> usize {
        let u = (self.below(1_000_000) as f64 + 1.0) / 1_000_001.0;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

/// The vocabulary, most frequent first.
pub fn words() -> Vec<&'static str> {
    WORDS.split_whitespace().collect()
}

/// Common words: the first this many of the vocabulary.
const COMMON: usize = 120;
/// Topics, and the content words of each.
const TOPICS: u64 = 24;
const TOPIC_WORDS: u64 = 16;

/// The `i`th word of topic `topic`.
fn topic_word<'w>(words: &[&'w str], topic: u64, i: u64) -> &'w str {
    let content = words.len().saturating_sub(COMMON).max(1) as u64;
    let at = COMMON as u64 + (topic * TOPIC_WORDS / 2 + i) % content;
    words.get(at as usize).copied().unwrap_or("the")
}

/// `min` to `max` words of prose about one topic.
pub fn prose(random: &mut Lcg, words: &[&str], min: u64, max: u64) -> String {
    let n = min + random.below(max - min + 1);
    let topic = random.below(TOPICS);
    let mut text = String::new();
    for i in 0..n {
        if i > 0 {
            text.push(if random.below(12) == 0 { '.' } else { ' ' });
            if text.ends_with('.') {
                text.push(' ');
            }
        }
        let word = if random.below(3) == 0 {
            topic_word(words, topic, random.below(TOPIC_WORDS))
        } else {
            words
                .get(random.zipf(COMMON.min(words.len())))
                .copied()
                .unwrap_or("the")
        };
        text.push_str(word);
    }
    text
}

/// A query of 2–4 content words of one topic.
pub fn query(random: &mut Lcg, words: &[&str]) -> String {
    let n = 2 + random.below(3);
    let topic = random.below(TOPICS);
    (0..n)
        .map(|_| topic_word(words, topic, random.below(TOPIC_WORDS)))
        .collect::<Vec<_>>()
        .join(" ")
}
