//! Form 01 of Appendix IV to Decree 76/2018/ND-CP ("Đơn đề nghị đăng ký chuyển giao công
//! nghệ"), the application to register a technology transfer, in Vietnamese, pre-filled from
//! one converted agreement's facts: the parties, the technology, the contract's date, price
//! and payment, the method of transfer and the term as far as the platform knows them. What
//! it does not know (the representatives, telephone numbers, the place of transfer, the
//! documents enclosed) is left as a labelled blank for the applicant. Pure: no I/O, no clock.

use super::context::Facts;
use crate::settlement::money::Currency;
use crate::settlement::terms::Price;
use crate::typeset::format::{date, money};
use crate::typeset::markup::{escape, parse, Block, MarkupError};

/// The document kind Form 01 is stored under (always in Vietnamese).
pub const KIND: &str = "registration-application";
/// Its only language.
pub const LANG: &str = "vi";

/// A blank the applicant fills in by hand.
const BLANK: &str = "……………………………………";

/// The form's blocks for the agreement `facts` describe (converted: its contract is known).
pub fn blocks(facts: &Facts) -> Result<Vec<Block>, MarkupError> {
    let (inst, sme, tech) = (&facts.institute, &facts.sme, &facts.technology);
    let e = |s: &str| escape(s);
    let signed = facts
        .contract
        .as_ref()
        .map(|c| date(LANG, c.converted_on))
        .unwrap_or_else(|| BLANK.to_string());
    let currency = Currency::parse(&facts.terms.currency);
    let total: i64 = facts
        .contract
        .as_ref()
        .map(|c| {
            c.lines
                .iter()
                .filter(|l| l.kind != "royalty" && l.kind != "true_up")
                .map(|l| l.amount_minor)
                .sum()
        })
        .unwrap_or(0);
    let fixed = currency
        .map(|c| money(c, total))
        .unwrap_or_else(|| total.to_string());
    let price = match &facts.terms.price {
        Price::LumpSum { .. } => format!("Trả một lần: {fixed}."),
        Price::Installments { count, interval_months, .. } => format!(
            "Trả nhiều lần: tổng {fixed}, chia {count} đợt, mỗi đợt cách nhau {interval_months} tháng."
        ),
        Price::Royalty { rate, .. } => format!(
            "Trả theo tỷ lệ {} doanh thu thuần hằng quý (phí bản quyền).",
            percent_text(rate)
        ),
        Price::EntryFeePlusRoyalty { rate, .. } => format!(
            "Phí ban đầu {fixed} và phí bản quyền {} doanh thu thuần hằng quý.",
            percent_text(rate)
        ),
    };
    let schedule: String = facts
        .contract
        .as_ref()
        .map(|c| {
            c.lines
                .iter()
                .map(|l| {
                    let amount = currency
                        .map(|cur| money(cur, l.amount_minor))
                        .unwrap_or_else(|| l.amount_minor.to_string());
                    let item = match l.kind.as_str() {
                        "lump_sum" => "Thanh toán một lần".to_string(),
                        "entry_fee" => "Phí ban đầu".to_string(),
                        "installment" => format!("Đợt {}", l.number),
                        _ => format!("Khoản {}", l.number),
                    };
                    format!("| {item} | {} |\n", e(&amount))
                })
                .collect()
        })
        .unwrap_or_default();
    let number = &facts.agreement.number;
    let source = format!(
        "^ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
^ Độc lập – Tự do – Hạnh phúc

# ĐƠN ĐỀ NGHỊ ĐĂNG KÝ CHUYỂN GIAO CÔNG NGHỆ
Mẫu số 01 Phụ lục IV ban hành kèm theo Nghị định số 76/2018/NĐ-CP ngày 15 tháng 5 năm 2018 của Chính phủ. Kính gửi: {BLANK} (Bộ Khoa học và Công nghệ hoặc Sở Khoa học và Công nghệ nơi bên đề nghị đặt trụ sở).

## 1. Bên đề nghị đăng ký
Bên giao công nghệ: {inst_name}, mã số {inst_no}, địa chỉ {inst_province}, thư điện tử {inst_email}. Người đại diện theo pháp luật: {BLANK}; chức vụ: {BLANK}; điện thoại: {BLANK}.

Bên nhận công nghệ: {sme_name}, mã số doanh nghiệp {sme_no}, địa chỉ {sme_province}, thư điện tử {sme_email}. Người đại diện theo pháp luật: {BLANK}; chức vụ: {BLANK}; điện thoại: {BLANK}.

## 2. Hợp đồng đề nghị đăng ký
Hợp đồng chuyển giao công nghệ số {number}, ký ngày {signed} (ngày Bên nhận chấp nhận chuyển đổi theo điều khoản đã thỏa thuận trước khi dùng thử).

Tên công nghệ được chuyển giao: {tech_title}. Lĩnh vực: {tech_field}. Đối tượng sở hữu công nghiệp kèm theo: {tech_ip}, số hiệu {tech_ref}.

Nguồn gốc: kết quả nghiên cứu khoa học và phát triển công nghệ sử dụng ngân sách nhà nước (Điều 31 Luật Chuyển giao công nghệ năm 2017).

## 3. Phương thức, thời hạn và địa điểm chuyển giao
Phương thức chuyển giao: chuyển giao tài liệu và đào tạo, hướng dẫn kỹ thuật theo hợp đồng; phạm vi quyền: {BLANK}.

Thời hạn chuyển giao: {BLANK}. Địa điểm chuyển giao: {place}.

## 4. Giá và phương thức thanh toán
{price} Đồng tiền thanh toán: {currency_code}. Các khoản đến hạn tính từ ngày hợp đồng có hiệu lực, là ngày được cấp Giấy chứng nhận đăng ký chuyển giao công nghệ, theo lịch thanh toán của hợp đồng.
| Khoản | Số tiền |
{schedule}
## 5. Hồ sơ kèm theo
Văn bản giao kết chuyển giao công nghệ (bản gốc hoặc bản sao có chứng thực): {BLANK}. Danh mục tài liệu công nghệ, máy móc, thiết bị kèm theo: {BLANK}. Giấy tờ khác: {BLANK}.

## 6. Cam kết
Chúng tôi cam đoan những thông tin nêu trên là đúng sự thật và chịu trách nhiệm trước pháp luật về nội dung hợp đồng chuyển giao công nghệ đề nghị đăng ký.

Làm tại {BLANK}, ngày {BLANK}.

[signatures]
",
        inst_name = e(&inst.name),
        inst_no = e(&inst.registration_no),
        inst_province = e(&inst.province),
        inst_email = e(&inst.contact_email),
        sme_name = e(&sme.name),
        sme_no = e(&sme.registration_no),
        sme_province = e(&sme.province),
        sme_email = e(&sme.contact_email),
        tech_title = e(&tech.title_vi),
        tech_field = e(&tech.field),
        tech_ip = e(super::words::ip_type(&tech.ip_type, LANG)),
        tech_ref = e(&tech.ip_reference),
        place = e(&facts.agreement.place_of_use),
        currency_code = e(&facts.terms.currency),
    );
    parse(&source)
}

/// A rate ("0.035") as Vietnamese writes a percentage ("3,5%").
fn percent_text(rate: &str) -> String {
    crate::settlement::money::parse_rate(rate)
        .map(|r| crate::typeset::format::percent(LANG, r))
        .unwrap_or_else(|_| rate.to_string())
}
