import Foundation
import Testing

@testable import SondeRender
@testable import SondeScript
@testable import SondeSupport

@Suite("Rules: certificate expiry and maintenance windows, checked and tested by promtool")
struct MaintenanceRulesTests {
    /// `api` warns 21 days ahead; `plain` has `@cert-expiry off`.
    static let checks = [
        "api": "# @every 1m\n# @down-after 2\n# @quorum 1\n# @cert-expiry 21d\n",
        "plain": "# @every 1m\n# @down-after 2\n# @quorum 1\n# @cert-expiry off\n",
    ]

    @Test(
        "SondeCertExpiring comes from the probe's certificate gauge, per @cert-expiry, and passes promtool check rules")
    func certificateRule() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let text = try await PrometheusRulesTests.generate(folder, checks: Self.checks)
        #expect(
            text.contains(
                "expr: |-\n          (sonde_cert_expiry_timestamp_seconds{check=\"api\"} - time()) / 86400 < 21\n"
                    + "          unless on (check, location) sonde_check_maintenance{check=\"api\"} == 1\n"))
        #expect(text.components(separatedBy: "alert: SondeCertExpiring\n").count == 2, "none for @cert-expiry off")
        let (code, output) = try await PrometheusRulesTests.promtool(["check", "rules", "rules.yml"], in: folder.path)
        #expect(code == 0, "promtool check rules:\n\(output)")
        #expect(output.contains("SUCCESS"))
    }

    @Test("a certificate 10 days from expiry fires; a location in maintenance neither pages down nor warns")
    func maintenanceSilences() async throws {
        // The clock of a promtool test starts at 0: a certificate expiring at 864000 s has 10 days left.
        try await PrometheusRulesTests.promtoolTest(
            """
              - interval: 1m
                input_series:
                  - series: 'sonde_check_up{check="api",location="a"}'
                    values: '0x20'
                  - series: 'sonde_check_maintenance{check="api",location="a"}'
                    values: '0x9 1x11'
                  - series: 'sonde_cert_expiry_timestamp_seconds{check="api",location="a"}'
                    values: '864000x20'
                  - series: 'sonde_check_up{check="plain",location="a"}'
                    values: '1x20'
                  - series: 'sonde_cert_expiry_timestamp_seconds{check="plain",location="a"}'
                    values: '864000x20'
                alert_rule_test:
                  - eval_time: 5m
                    alertname: SondeCertExpiring
                    exp_alerts:
                      - exp_labels:
                          check: api
                          location: a
                          severity: warning
                        exp_annotations:
                          summary: 'api at a: the certificate expires in 10.0 days'
                          description: '@cert-expiry 21d: the leaf certificate seen by the latest HTTPS run (sonde_cert_expiry_timestamp_seconds) expires within 21 days.'
                  - eval_time: 5m
                    alertname: SondeCheckDown
                    exp_alerts:
                      - exp_labels:
                          check: api
                          severity: page
                        exp_annotations:
                          summary: 'api is down at a'
                          description: 'At least 1 location reports the check down (sonde_check_up == 0), held for 2m (@every 1m × @down-after 2).'
                          error: 'no failed run counted over 5m'
                  - eval_time: 15m
                    alertname: SondeCheckDown
                    exp_alerts: []
                  - eval_time: 15m
                    alertname: SondeCertExpiring
                    exp_alerts: []
            """, checks: Self.checks)
    }
}
