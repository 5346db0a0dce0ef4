//! A credential to print for benches, tests and trying the layout: realistic wording,
//! `units` units with varied titles, levels and credits.
use time::macros::date;

use crate::credentials::{Certificate, CertificateUnit};

const TITLES: [&str; 8] = [
    "Principles of customer service",
    "Communicate effectively with customers in a retail or contact-centre environment",
    "Resolve customer complaints",
    "Health, safety and security at work",
    "Use digital systems to record and retrieve customer information",
    "Develop customer relationships",
    "Equality, diversity and inclusion in the workplace",
    "Deliver customer service using social media and online channels, including handling escalations",
];

pub fn sample_certificate(learner_name: &str, units: usize) -> Certificate {
    Certificate {
        learner_name: learner_name.to_string(),
        qualification_code: "601/3562/1".to_string(),
        qualification_title: "Level 3 Diploma in Customer Service".to_string(),
        qualification_level: 3,
        major_code: "CS-SPEC".to_string(),
        major_title: "Customer Service Specialist".to_string(),
        units: (0..units)
            .map(|i| CertificateUnit {
                code: format!("{}", 201 + i),
                title: TITLES[i % TITLES.len()].to_string(),
                level: 2 + (i % 3) as u8,
                credits: 3 + (i % 5) as u32,
            })
            .collect(),
        number: "ATT-7QK4-M2XD-9HNE".to_string(),
        issued_on: Some(date!(2026 - 11 - 24)),
        centre_name: "Northbridge College of Further Education".to_string(),
        verify_url: "https://attest.example.org/verify/ATT-7QK4-M2XD-9HNE".to_string(),
    }
}
