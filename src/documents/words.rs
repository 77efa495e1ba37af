//! The words documents write beside the templates' own text, per language: price models,
//! the names of the terms' figures, kinds of intellectual property, parties, risks, months and
//! installments. English for a language without its own.

use crate::settlement::terms::Price;

pub(super) fn model(price: &Price) -> Label {
    match price {
        Price::LumpSum { .. } => Label::LumpSum,
        Price::Installments { .. } => Label::Installments,
        Price::Royalty { .. } => Label::Royalty,
        Price::EntryFeePlusRoyalty { .. } => Label::EntryFeePlusRoyalty,
    }
}

/// A covered risk named in `lang`; an unknown one as stored.
pub(super) fn risk<'a>(code: &'a str, lang: &str) -> &'a str {
    match code {
        "implementation_failure" => Label::ImplementationFailure.text(lang),
        "non_payment" => Label::NonPayment.text(lang),
        other => other,
    }
}

/// The kind of intellectual property (`technologies::IP_TYPES`) named in the document's
/// language; anything else as it was entered.
pub(super) fn ip_type<'a>(code: &'a str, lang: &str) -> &'a str {
    let [vi, en, zh] = match code {
        "patent" => ["Bằng độc quyền sáng chế", "Patent", "发明专利"],
        "utility_solution" => [
            "Bằng độc quyền giải pháp hữu ích",
            "Utility solution patent",
            "实用新型专利",
        ],
        "software" => ["Phần mềm", "Software", "软件"],
        "know_how" => ["Bí quyết kỹ thuật", "Know-how", "技术秘密"],
        "plant_variety" => [
            "Bằng bảo hộ giống cây trồng",
            "Plant variety protection",
            "植物新品种权",
        ],
        "other" => ["Đối tượng khác", "Other", "其他"],
        other => return other,
    };
    match lang {
        "vi" => vi,
        "zh" => zh,
        _ => en,
    }
}

/// How a technology of `ip_type` is transferred (the methods of Art. 5 of the Law on
/// Technology Transfer), as a clause of the contract in `lang`.
pub(super) fn transfer_method(ip_type: &str, lang: &str) -> &'static str {
    let [vi, en, zh] = match ip_type {
        "patent" | "utility_solution" => [
            "Bên A chuyển giao bản mô tả, yêu cầu bảo hộ và hồ sơ kỹ thuật để thực hiện đối tượng được bảo hộ, đồng thời đào tạo nhân sự kỹ thuật của Bên B cho đến khi Bên B tự vận hành được công nghệ",
            "Party A hands over the description, the claims and the technical file needed to work the protected subject matter, and trains Party B's technical staff until Party B can operate the technology on its own",
            "甲方交付实施受保护技术所需的说明书、权利要求书及技术资料，并培训乙方技术人员，直至乙方能够独立运用该技术",
        ],
        "software" => [
            "Bên A bàn giao bản phần mềm có thể cài đặt, mã nguồn trong phạm vi cần thiết để vận hành và bảo trì, tài liệu hướng dẫn sử dụng, đồng thời cài đặt và đào tạo người sử dụng của Bên B",
            "Party A delivers an installable copy of the software, its source code as far as needed to run and maintain it, and its user documentation, installs it and trains Party B's users",
            "甲方交付可安装的软件副本、运行和维护所需范围内的源代码及用户文档，并负责安装和培训乙方使用人员",
        ],
        "know_how" => [
            "Bên A chuyển giao tài liệu thể hiện bí quyết kỹ thuật, đào tạo nhân sự của Bên B và cử chuyên gia tư vấn kỹ thuật cho đến khi Bên B làm chủ được công nghệ",
            "Party A hands over the documents embodying the know-how, trains Party B's staff and sends its experts to give technical advice until Party B has mastered the technology",
            "甲方交付载有技术秘密的资料，培训乙方人员，并派遣专家提供技术咨询，直至乙方掌握该技术",
        ],
        "plant_variety" => [
            "Bên A giao vật liệu nhân giống và quy trình kỹ thuật canh tác, đồng thời hướng dẫn kỹ thuật tại chỗ cho Bên B",
            "Party A supplies the propagating material and the cultivation procedures, and gives Party B technical guidance on site",
            "甲方提供繁殖材料和栽培技术规程，并在现场为乙方提供技术指导",
        ],
        _ => [
            "Bên A chuyển giao tài liệu kỹ thuật của công nghệ và đào tạo nhân sự của Bên B cho đến khi Bên B tự vận hành được công nghệ",
            "Party A hands over the technical documents of the technology and trains Party B's staff until Party B can operate the technology on its own",
            "甲方交付该技术的技术资料，并培训乙方人员，直至乙方能够独立运用该技术",
        ],
    };
    match lang {
        "vi" => vi,
        "zh" => zh,
        _ => en,
    }
}

/// A number of months: `3 tháng`, `3 months`, `3 个月`.
pub(super) fn months(lang: &str, n: u32) -> String {
    match lang {
        "vi" => format!("{n} tháng"),
        "zh" => format!("{n} 个月"),
        _ if n == 1 => "1 month".to_string(),
        _ => format!("{n} months"),
    }
}

/// The `i`th of `n` installments: `Kỳ 1/6`, `Installment 1 of 6`, `第1/6期`.
pub(super) fn installment(lang: &str, i: usize, n: usize) -> String {
    match lang {
        "vi" => format!("Kỳ {i}/{n}"),
        "zh" => format!("第{i}/{n}期"),
        _ => format!("Installment {i} of {n}"),
    }
}

/// The words documents write beside the templates' own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    PartyA,
    PartyB,
    LumpSum,
    Installments,
    Royalty,
    EntryFeePlusRoyalty,
    Price,
    PaymentDue,
    Total,
    Count,
    Interval,
    FirstDue,
    RoyaltyRate,
    MinPerYear,
    EntryFee,
    TrialPeriod,
    DecisionPeriod,
    EarlyDiscount,
    LateRate,
    InsuranceRequired,
    Yes,
    No,
    ImplementationFailure,
    NonPayment,
    LumpSumItem,
}

impl Label {
    /// The label in `lang` (English for a language without its own).
    pub(super) fn text(self, lang: &str) -> &'static str {
        let [vi, en, zh] = match self {
            Label::PartyA => ["Bên A", "Party A", "甲方"],
            Label::PartyB => ["Bên B", "Party B", "乙方"],
            Label::LumpSum => ["Trả một lần", "Lump sum", "一次性支付"],
            Label::Installments => ["Trả góp", "Installments", "分期支付"],
            Label::Royalty => [
                "Phí bản quyền theo doanh thu",
                "Royalty on net sales",
                "按净销售额提成",
            ],
            Label::EntryFeePlusRoyalty => [
                "Phí gia nhập và phí bản quyền",
                "Entry fee plus royalty",
                "入门费加提成",
            ],
            Label::Price => ["Giá chuyển giao", "Price", "转让价款"],
            Label::PaymentDue => [
                "Hạn thanh toán sau ngày chuyển đổi",
                "Payment due after conversion",
                "转化后付款期限",
            ],
            Label::Total => ["Tổng giá", "Total price", "总价款"],
            Label::Count => ["Số kỳ", "Number of installments", "分期期数"],
            Label::Interval => [
                "Khoảng cách giữa các kỳ",
                "Interval between installments",
                "每期间隔",
            ],
            Label::FirstDue => [
                "Kỳ đầu đến hạn sau ngày chuyển đổi",
                "First installment due after conversion",
                "转化后首期付款期限",
            ],
            Label::RoyaltyRate => [
                "Tỷ lệ phí bản quyền trên doanh thu thuần",
                "Royalty rate on net sales",
                "净销售额提成比例",
            ],
            Label::MinPerYear => [
                "Phí bản quyền tối thiểu mỗi năm",
                "Minimum royalty per year",
                "每年最低提成",
            ],
            Label::EntryFee => ["Phí gia nhập", "Entry fee", "入门费"],
            Label::TrialPeriod => ["Thời gian dùng thử", "Trial period", "试用期"],
            Label::DecisionPeriod => [
                "Thời hạn quyết định sau dùng thử",
                "Decision period after the trial",
                "试用结束后决定期限",
            ],
            Label::EarlyDiscount => [
                "Chiết khấu chuyển đổi sớm",
                "Early-conversion discount",
                "提前转化折扣",
            ],
            Label::LateRate => [
                "Lãi chậm thanh toán mỗi ngày",
                "Late-payment interest per day",
                "逾期付款日利率",
            ],
            Label::InsuranceRequired => ["Bắt buộc bảo hiểm", "Insurance required", "须投保"],
            Label::Yes => ["Có", "Yes", "是"],
            Label::No => ["Không", "No", "否"],
            Label::ImplementationFailure => [
                "triển khai công nghệ thất bại",
                "implementation failure",
                "技术实施失败风险",
            ],
            Label::NonPayment => [
                "bên nhận không thanh toán",
                "non-payment",
                "受让方未付款风险",
            ],
            Label::LumpSumItem => ["Thanh toán một lần", "Lump sum", "一次性付款"],
        };
        match lang {
            "vi" => vi,
            "zh" => zh,
            _ => en,
        }
    }
}
