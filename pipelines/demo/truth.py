"""The planted truth of Demostad (SYNTHETIC): factor chains, direct effects and indicator scales.

Edit this file to change what a later statistics stage should recover.

Sign convention of ``PLANTED_EFFECTS``: ``effect_sd`` > 0 means that a one-SD *higher* latent
factor score makes the outcome *worse* (whatever the indicator's direction). Latent factor
scores are oriented by the factor's own name: a higher ``positief_gezinsklimaat`` is a better
family climate, a higher ``armoede`` is more poverty.
"""

from __future__ import annotations

# (from_factor_id, to_factor_id, coefficient_sd), applied in this order:
# z_to = coefficient * z_from + sqrt(1 - coefficient**2) * z_to (standardised path coefficient).
PLANTED_CHAINS: tuple[tuple[str, str, float], ...] = (
    ("werkloosheid", "armoede", 0.5),
    ("armoede", "schulden", 0.5),
    ("positief_gezinsklimaat", "sociaal_emotionele_vaardigheden", 0.4),
    ("eenzaamheid", "depressie", 0.4),
    ("schoolverzuim", "schoolsucces", -0.4),
)

# (factor_id, outcome indicator_id, effect_sd); effect_sd > 0: higher factor -> worse outcome.
#
# Plant design (see ground_truth_README.md, "Plant design"): the effects of at least 0.2 SD sit on
# buurt-level outcomes (80 buurten x 10 years) and on factors that are measured per buurt from
# large enough denominators (CBS percentages and rates, one-parent families, debts, police crime
# figures), so that a within-area regression on the pipeline's factor scores can show them.
# Factors measured per wijk (GGD survey, DUO) and rare-event registrations (Veilig Thuis,
# absenteeism) carry small effects (0.1-0.15 SD), as do all wijk-level outcomes (12 wijken x
# 5 survey years): their standard errors are about 0.1-0.2 SD, so larger planted effects there
# could not be recovered with the right sign in 95% of datasets.
PLANTED_EFFECTS: tuple[tuple[str, str, float], ...] = (
    # kansrijk_zelfstandig, buurt outcomes
    ("armoede", "reg_jeugdhulp_pct", 0.3),
    ("eenoudergezin", "reg_jeugdhulp_pct", 0.25),
    ("kindermishandeling", "reg_jeugdhulp_pct", 0.15),
    ("positief_gezinsklimaat", "reg_jeugdhulp_pct", -0.15),
    ("eenoudergezin", "cbs_jeugdzorg_pct", 0.3),
    ("armoede", "cbs_jeugdzorg_pct", 0.2),
    ("werkloosheid", "reg_bijstand_jongeren_pct", 0.4),
    ("schulden", "reg_bijstand_jongeren_pct", 0.25),
    ("schoolsucces", "reg_bijstand_jongeren_pct", -0.15),
    ("arbeidsparticipatie", "cbs_wmo_per_1000", -0.3),
    ("schulden", "cbs_wmo_per_1000", 0.25),
    ("dementie", "cbs_wmo_per_1000", 0.15),
    # veilig_thuis (rare events on both sides: small effects)
    ("kindermishandeling", "reg_jeugdhulp_verblijf_per_1000", 0.15),
    ("huiselijk_geweld", "reg_jeugdhulp_verblijf_per_1000", 0.15),
    # veilig_minder_criminaliteit and veilig_buurt, buurt outcomes
    ("criminaliteit_buurt", "pol_verdachten_12_17_per_1000", 0.4),
    ("schoolverzuim", "pol_verdachten_12_17_per_1000", 0.15),
    ("werkloosheid", "pol_verdachten_18_24_per_1000", 0.45),
    ("alcohol_drugs", "pol_verdachten_18_24_per_1000", 0.15),
    ("criminaliteit_buurt", "pol_halt_per_1000", 0.45),
    ("delinquente_vrienden", "pol_halt_per_1000", 0.15),
    ("criminaliteit_buurt", "pol_woninginbraken_per_1000", 0.45),
    ("buurt_achterstand", "pol_woninginbraken_per_1000", 0.35),
    # wijk-level outcomes (GGD monitor, DUO): small effects
    ("sociaal_emotionele_vaardigheden", "ggd_psychosociale_problemen_jeugd", -0.15),
    ("pesten", "ggd_psychosociale_problemen_jeugd", 0.15),
    ("depressie", "ggd_mentale_gezondheid_volw", 0.15),
    ("eenzaamheid", "ggd_mentale_gezondheid_volw", 0.1),
    ("gezonde_leefstijl", "ggd_overgewicht_jeugd", -0.15),
    ("delinquente_vrienden", "ggd_roken_jeugd", 0.15),
    ("positief_gezinsklimaat", "ggd_ontbijt_jeugd", -0.1),
    ("laag_opleidingsniveau_ouders", "ggd_roken_volw", 0.15),
    ("dementie", "ggd_adl_beperking_ouderen", 0.15),
    ("sociale_cohesie", "ggd_vrijwilligerswerk_volw", -0.15),
    ("criminaliteit_buurt", "ggd_onveilig_buurt_volw", 0.15),
    ("schoolverzuim", "duo_vsv_pct", 0.15),
    ("schoolsucces", "duo_advies_havo_vwo_pct", -0.15),
)

LOGIT_SCALE = 0.50  # change in logit(p) per latent unit, percentages and survey prevalences
LOG_SCALE = 0.45  # change in log(rate) per latent unit, rates per 1000
MEAN_LOG_SCALE = 0.12  # change in log(mean) per latent unit, euro amounts

# indicator_id -> value at latent 0 (percent, rate per 1000, or mean in the indicator's unit)
BASE_VALUES: dict[str, float] = {
    "cbs_laag_inkomen_pct": 9.0, "cbs_sociaal_minimum_pct": 8.0, "cbs_ww_per_1000": 22.0,
    "cbs_bijstand_per_1000": 45.0, "cbs_nettoarbeidsparticipatie": 65.0, "cbs_laag_opgeleid_pct": 30.0,
    "cbs_woz_waarde": 260.0, "cbs_inkomen_per_inwoner": 29.0, "cbs_corporatiewoningen_pct": 35.0,
    "cbs_jeugdzorg_pct": 11.0, "cbs_wmo_per_1000": 55.0,
    "reg_jeugdhulp_pct": 10.0, "reg_jeugdhulp_verblijf_per_1000": 10.0, "reg_bijstand_jongeren_pct": 5.0,
    "reg_eenoudergezinnen_pct": 22.0, "reg_schuldhulp_pct": 3.0, "reg_relatief_verzuim_per_1000": 35.0,
    "reg_absoluut_verzuim_per_1000": 2.0, "reg_kindermishandeling_per_1000": 12.0,
    "reg_huiselijk_geweld_per_1000": 8.0, "reg_vve_deelname_pct": 82.0, "reg_laag_geboortegewicht_pct": 6.0,
    "reg_roken_zwangerschap_pct": 7.0, "reg_borstvoeding_3mnd_pct": 45.0,
    "ggd_psychosociale_problemen_jeugd": 18.0, "ggd_suicidegedachten_jeugd": 8.0, "ggd_overgewicht_jeugd": 14.0,
    "ggd_ervaren_gezondheid_jeugd": 82.0, "ggd_roken_jeugd": 8.0, "ggd_ontbijt_jeugd": 78.0,
    "ggd_alcohol_jeugd": 25.0, "ggd_gepest_jeugd": 12.0, "ggd_online_gepest_jeugd": 7.0,
    "ggd_schermtijd_jeugd": 60.0, "ggd_sportvereniging_jeugd": 65.0, "ggd_beweegrichtlijn_jeugd": 40.0,
    "ggd_steun_ouders_jeugd": 85.0, "ggd_veerkracht_jeugd": 55.0, "ggd_spijbelen_jeugd": 14.0,
    "ggd_schoolbinding_jeugd": 60.0, "ggd_vrienden_delict_jeugd": 15.0, "ggd_eenzaam_volw": 12.0,
    "ggd_angst_depressie_risico_volw": 10.0, "ggd_depressieve_klachten_volw": 12.0,
    "ggd_mentale_gezondheid_volw": 80.0, "ggd_overmatig_drinken_volw": 8.0, "ggd_roken_volw": 20.0,
    "ggd_ervaren_gezondheid_volw": 74.0, "ggd_sociale_cohesie_volw": 30.0, "ggd_tevreden_groen_volw": 70.0,
    "ggd_hinder_lucht_volw": 12.0, "ggd_sociale_steun_ouderen": 88.0, "ggd_digitaal_vaardig_ouderen": 70.0,
    "ggd_geheugenklachten_ouderen": 8.0, "ggd_adl_beperking_ouderen": 18.0, "ggd_vrijwilligerswerk_volw": 28.0,
    "ggd_onveilig_buurt_volw": 35.0,
    "duo_vsv_pct": 2.0, "duo_advies_havo_vwo_pct": 45.0, "duo_vertraging_vo_pct": 12.0,
    "pol_verdachten_12_17_per_1000": 20.0, "pol_verdachten_18_24_per_1000": 28.0, "pol_halt_per_1000": 12.0,
    "pol_misdrijven_per_1000": 60.0, "pol_geweld_per_1000": 9.0, "pol_woninginbraken_per_1000": 4.0,
}
