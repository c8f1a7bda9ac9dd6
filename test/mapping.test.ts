import t from 'tap';
import { BrokerError } from '../src/errors/catalogue.js';
import { normalizeTaxCode, toIdentity } from '../src/upstream/mapping.js';

// Claim mapping of DVCQG and VNeID shapes (UPSTREAMS.md) into the one Identity type.
const dvcqg = { name: 'dvcqg', kind: 'dvcqg' as const, issuer: 'https://xacthuc.dichvucong.gov.vn' };
const vneid = { name: 'vneid', kind: 'vneid' as const, issuer: 'http://sso.dancuquocgia.gov.vn:8080/auth/realms/citizen' };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof BrokerError ? err.code : String(err);
  }
}

t.test('DVCQG citizen: LoaiTaiKhoan as a string, yyyyMMdd birth date, address object', async (t) => {
  const id = toIdentity(dvcqg, {
    sub: 'x', TechID: 'x', LoaiTaiKhoan: '1', SoDinhDanh: '079088001234', HoVaTen: 'Nguyễn Văn An', NgayThangNamSinh: '19880219',
    SoDienThoai: '0901234289', ThuDienTu: '', ThuongTru: { SoNha: '12 Trần Phú', TinhThanh: 'Lâm Đồng' }, MaBHXH: '7912345678', GioiTinh: 1,
  });
  t.match(id, { accountType: 'citizen', nationalId: '079088001234', birthdate: '1988-02-19', phone: '0901234289', address: '12 Trần Phú, Lâm Đồng', amr: ['pwd'] });
  t.notOk('email' in id, 'an empty ThuDienTu is no email');
  t.notOk('gender' in id, 'unknown integer gender codes are not guessed');
  t.notOk(JSON.stringify(id).includes('7912345678'), 'claims the broker does not need (MaBHXH) are dropped');
});

t.test('VNeID: LoaiTaiKhoan and IAL as integers, preferred_username as the number', async (t) => {
  const id = toIdentity(vneid, { sub: 'k1', LoaiTaiKhoan: 1, IAL: 2, preferred_username: '001099004321', name: 'Lê Văn Cường', acr: '1' });
  t.match(id, { accountType: 'citizen', nationalId: '001099004321', identityLevel: 2, name: 'Lê Văn Cường', issuer: vneid.issuer });
  t.equal(toIdentity(vneid, { sub: 'k2', LoaiTaiKhoan: 1, IAL: '1', SoDinhDanh: '001099004321' }).identityLevel, 1);
});

t.test('legacy 9-digit CMND alone is not enough for a citizen', async (t) => {
  t.equal(code(() => toIdentity(dvcqg, { sub: 'x', LoaiTaiKhoan: '1', SoCMND: '123456789' })), 'identity_incomplete');
  t.equal(toIdentity(dvcqg, { sub: 'x', LoaiTaiKhoan: '1', SoCMND: '079088001234' }).nationalId, '079088001234', 'a 12-digit SoCMND is a CCCD');
});

t.test('business and organisation: MaSoThue, MaSoDoanhNghiep fallback, branch codes', async (t) => {
  t.equal(normalizeTaxCode('0313994173'), '0313994173');
  t.equal(normalizeTaxCode('0101234567-001'), '0101234567-001');
  t.equal(normalizeTaxCode('0101234567001'), '0101234567-001');
  t.equal(normalizeTaxCode('MST:0101234567'), undefined);
  t.equal(normalizeTaxCode('12345'), undefined);
  t.match(toIdentity(dvcqg, { sub: 'b', LoaiTaiKhoan: 2, MaSoDoanhNghiep: '0313994173', TenDoanhNghiep: 'Công ty A' }), { accountType: 'business', taxCode: '0313994173', organizationName: 'Công ty A' });
  t.equal(code(() => toIdentity(dvcqg, { sub: 'b', LoaiTaiKhoan: '2', TenDoanhNghiep: 'Không MST' })), 'identity_incomplete');
  t.equal(toIdentity(vneid, { sub: 'o', LoaiTaiKhoan: 3, MaSoThue: '0101234567-002' }).accountType, 'organization');
});

t.test('administrator accounts and malformed claims are refused', async (t) => {
  t.equal(code(() => toIdentity(dvcqg, { sub: 'a', LoaiTaiKhoan: '4', HoVaTen: 'Cán bộ' })), 'account_not_allowed');
  t.equal(code(() => toIdentity(dvcqg, { sub: 'a', SoDinhDanh: '079088001234' })), 'identity_incomplete', 'DVCQG without LoaiTaiKhoan');
  t.equal(code(() => toIdentity(dvcqg, { LoaiTaiKhoan: '1' })), 'identity_incomplete', 'no sub');
  t.equal(code(() => toIdentity(dvcqg, { sub: 'a', LoaiTaiKhoan: '1', SoDinhDanh: { nested: true } })), 'identity_incomplete');
});

t.test('DVCQG login through VNeID (loginIdp BCA) is recorded', async (t) => {
  t.equal(toIdentity(dvcqg, { sub: 'x', LoaiTaiKhoan: '1', SoDinhDanh: '079088001234', loginIdp: 'BCA' }).viaVneid, true);
});
