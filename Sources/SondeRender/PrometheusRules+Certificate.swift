import SondeSupport

extension PrometheusRules {
    /// The alert of a certificate that expires within the check's `@cert-expiry` (the name the live
    /// prober gives its Alertmanager alert too).
    static let certificateAlertName = "SondeCertExpiring"
    /// The gauge that is 1 while a check's last run was in a maintenance window.
    static let maintenanceSeries = "sonde_check_maintenance"

    /// `SondeCertExpiring` per location: the leaf certificate seen by the last HTTPS run
    /// (`sonde_cert_expiry_timestamp_seconds`) expires within `@cert-expiry`, and the location is
    /// not in a maintenance window; nil with `@cert-expiry off`. A check without HTTPS has no such
    /// series, so its rule never fires.
    func certificateAlert(_ check: Check, selector: String) -> YAMLNode? {
        guard let days = check.certExpiryDays else { return nil }
        let limit = PrometheusText.format(days)
        let expression =
            "(sonde_cert_expiry_timestamp_seconds{\(selector)} - time()) / 86400 < \(limit)\n"
            + "unless on (check, location) \(Self.maintenanceSeries){\(selector)} == 1"
        return .mapping([
            ("alert", .scalar(Self.certificateAlertName)),
            ("expr", .scalar(expression)),
            ("labels", .mapping([("check", .scalar(check.name)), ("severity", .scalar("warning"))])),
            (
                "annotations",
                .mapping([
                    (
                        "summary",
                        .scalar(
                            "{{ $labels.check }} at {{ $labels.location }}: the certificate expires in "
                                + "{{ printf \"%.1f\" $value }} days")
                    ),
                    (
                        "description",
                        .scalar(
                            "@cert-expiry \(limit)d: the leaf certificate seen by the latest HTTPS run "
                                + "(sonde_cert_expiry_timestamp_seconds) expires within \(limit) days.")
                    ),
                ])
            ),
        ])
    }
}
